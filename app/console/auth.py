"""Log-in to the console with an API key (the roles are the API's), the session cookie, CSRF, log-out.

The cookie holds a random session id only (HttpOnly, SameSite=Strict, Secure under TLS); the session, in the
server's memory, names the key, which is authenticated again on every request. Forms carry a CSRF token:
the session's, or before log-in one paired with a short-lived cookie."""

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.api.deps import StoreDep
from app.console.sessions import LoginThrottle, Sessions
from app.console.templating import render
from app.domain.access import Principal
from app.domain.enums import Role
from app.services.access import authenticate

__all__ = ["ConsoleUser", "LoginRequired", "Viewer", "router"]

SESSION_COOKIE = "smartcharge_console"
LOGIN_CSRF_COOKIE = "smartcharge_login_csrf"

router = APIRouter(include_in_schema=False)


class LoginRequired(Exception):
    """No valid session: the page answers with a way to the log-in form."""


class CsrfRejected(Exception):
    """A form came back without the token it was sent with."""


@dataclass(frozen=True)
class Viewer:
    """Who is looking at the console: the API key's principal and the session's CSRF token."""

    principal: Principal
    csrf: str

    @property
    def may_operate(self) -> bool:
        return self.principal.role in (Role.admin, Role.operator)


def sessions_of(request: Request) -> Sessions:
    sessions: Sessions = request.app.state.console_sessions
    return sessions


def now_utc() -> datetime:
    return datetime.now(UTC)  # sessions and lock-outs run on real time, also under a simulated clock


async def console_user(request: Request, store: StoreDep) -> Viewer:
    session = sessions_of(request).get(request.cookies.get(SESSION_COOKIE), now_utc())
    if session is None:
        raise LoginRequired
    async with store.unit_of_work() as uow:
        principal = await authenticate(uow, session.token)
    if principal is None:
        sessions_of(request).close(request.cookies.get(SESSION_COOKIE))
        raise LoginRequired
    return Viewer(principal, session.csrf)


ConsoleUser = Annotated[Viewer, Depends(console_user)]


def check_csrf(viewer: Viewer, token: str) -> None:
    if not secrets.compare_digest(viewer.csrf.encode(), token.encode()):
        raise CsrfRejected


def safe_next(target: str | None) -> str:
    """Only a path of this service (no `//host`): the log-in form never sends anyone elsewhere."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _login_form(
    request: Request, next_path: str, error: str | None = None, status: int = 200
) -> HTMLResponse:
    token = secrets.token_urlsafe(32)
    response = render(
        request, "login.html", status, csrf=token, next_path=safe_next(next_path), error=error, viewer=None
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        max_age=3600,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


@router.get("/login")
async def login_form(request: Request, next: str = "/") -> HTMLResponse:
    return _login_form(request, next)


@router.post("/login")
async def login(
    request: Request,
    store: StoreDep,
    api_key: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not secrets.compare_digest(expected.encode(), csrf.encode()):
        return _login_form(request, next, "The form had expired: please log in again.", 400)
    throttle: LoginThrottle = request.app.state.console_logins
    client = request.client.host if request.client else "unknown"
    now = now_utc()
    locked = throttle.locked_until(client, now)
    if locked is not None:
        until = locked.strftime("%H:%M:%S UTC")
        return _login_form(request, next, f"Too many failed log-ins: try again after {until}.", 429)
    async with store.unit_of_work() as uow:
        principal = await authenticate(uow, api_key.strip()) if api_key.strip() else None
    if principal is None:
        throttle.failed(client, now)
        return _login_form(request, next, "Unknown or revoked API key.", 401)
    throttle.succeeded(client)
    response = RedirectResponse(safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        sessions_of(request).open(api_key.strip(), now),
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE)
    return response


@router.post("/logout")
async def logout(viewer: ConsoleUser, request: Request, csrf: Annotated[str, Form()] = "") -> Response:
    check_csrf(viewer, csrf)
    sessions_of(request).close(request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response
