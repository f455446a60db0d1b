"""Log-in to the console (a console user's username and password, or an API key), the session cookie,
CSRF, log-out.

The cookie holds a random token only (HttpOnly, SameSite=Lax, Secure under TLS); the session is in the
database (`app.services.console_sessions`), so it survives a restart, and its user or key is checked again
on every request. Forms carry a CSRF token: the session's, or before log-in one paired with a short-lived
cookie. Failed log-ins from one address are throttled (`LoginThrottle`)."""

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.api.deps import StoreDep
from app.console.templating import render
from app.console.throttle import LoginThrottle
from app.domain.access import Principal
from app.domain.enums import Role
from app.services.access import authenticate
from app.services.console_sessions import close_session, open_session, resume_session
from app.services.users import check_password, principal_of

__all__ = [
    "SESSION_COOKIE",
    "ConsoleUser",
    "CsrfRejected",
    "LoginRequired",
    "Viewer",
    "check_csrf",
    "now_utc",
    "router",
]

SESSION_COOKIE = "smartcharge_console"
LOGIN_CSRF_COOKIE = "smartcharge_login_csrf"

router = APIRouter(include_in_schema=False)


class LoginRequired(Exception):
    """No valid session: the page answers with a way to the log-in form."""


class CsrfRejected(Exception):
    """A form came back without the token it was sent with."""


@dataclass(frozen=True)
class Viewer:
    """Who is looking at the console: the user's (or API key's) principal and the session's CSRF token."""

    principal: Principal
    csrf: str

    @property
    def may_operate(self) -> bool:
        return self.principal.role in (Role.admin, Role.operator)

    @property
    def is_admin(self) -> bool:
        return self.principal.role is Role.admin

    @property
    def sees_driver_data(self) -> bool:
        """Drivers' id tags and what carries them are not a grid operator's to see (as in the API)."""
        return self.principal.role is not Role.grid_operator


def now_utc() -> datetime:
    return datetime.now(UTC)  # sessions and lock-outs run on real time, also under a simulated clock


async def console_user(request: Request, store: StoreDep) -> Viewer:
    async with store.unit_of_work() as uow:
        resumed = await resume_session(uow, request.cookies.get(SESSION_COOKIE), now_utc())
    if resumed is None:
        raise LoginRequired
    return Viewer(resumed.principal, resumed.csrf)


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
    request: Request, next_path: str, error: str | None = None, status: int = 200, username: str = ""
) -> HTMLResponse:
    token = secrets.token_urlsafe(32)
    response = render(
        request,
        "login.html",
        status,
        csrf=token,
        next_path=safe_next(next_path),
        error=error,
        username=username,
        viewer=None,
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


async def _principal(store: StoreDep, username: str, password: str, api_key: str) -> Principal | None:
    """Who these credentials name: an API key, or a user and its password (checked outside the unit of
    work: Argon2 holds no database connection)."""
    if api_key:
        async with store.unit_of_work() as uow:
            return await authenticate(uow, api_key)
    async with store.unit_of_work() as uow:
        principal, password_hash = await principal_of(uow, username)
    return principal if await check_password(password_hash, password) else None


@router.post("/login")
async def login(
    request: Request,
    store: StoreDep,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    api_key: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    username, api_key = username.strip(), api_key.strip()
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not secrets.compare_digest(expected.encode(), csrf.encode()):
        return _login_form(request, next, "The form had expired: please log in again.", 400, username)
    throttle: LoginThrottle = request.app.state.console_logins
    client = request.client.host if request.client else "unknown"
    now = now_utc()
    locked = throttle.locked_until(client, now)
    if locked is not None:
        until = locked.strftime("%H:%M:%S UTC")
        return _login_form(request, next, f"Too many failed log-ins: try again after {until}.", 429, username)
    if not api_key and not (username and password):
        return _login_form(request, next, "Enter a username and a password, or an API key.", 400, username)
    principal = await _principal(store, username, password, api_key)
    if principal is None:
        throttle.failed(client, now)
        error = "Unknown or revoked API key." if api_key else "Wrong username or password."
        return _login_form(request, next, error, 401, username)
    throttle.succeeded(client)
    async with store.unit_of_work() as uow:
        token = await open_session(uow, principal, now)
    response = RedirectResponse(safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE, token, httponly=True, samesite="lax", secure=request.url.scheme == "https"
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE)
    return response


@router.post("/logout")
async def logout(
    viewer: ConsoleUser, request: Request, store: StoreDep, csrf: Annotated[str, Form()] = ""
) -> Response:
    check_csrf(viewer, csrf)
    async with store.unit_of_work() as uow:
        await close_session(uow, request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response
