"""A console user's own account: changing its password. The current password is asked for (checked with
Argon2 outside any unit of work, a wrong one counted like a failed log-in), and the user's other sessions
end while this one goes on. Someone logged in with an API key has no password here."""

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.api.deps import StoreDep
from app.console.auth import SESSION_COOKIE, ConsoleUser, Viewer, check_csrf, now_utc
from app.console.forms import FieldErrors, field_errors
from app.console.templating import render
from app.console.throttle import LoginThrottle
from app.services.console_sessions import session_id
from app.services.errors import ServiceError
from app.services.users import change_own_password, check_password, hashed, password_hash_of

router = APIRouter(include_in_schema=False)


def _page(
    request: Request, viewer: Viewer, errors: FieldErrors | None = None, status: int = 200
) -> HTMLResponse:
    saved = request.query_params.get("saved") == "1"
    return render(request, "account.html", status, viewer=viewer, errors=errors or {}, saved=saved)


@router.get("/account")
async def account(request: Request, viewer: ConsoleUser) -> HTMLResponse:
    return _page(request, viewer)


@router.post("/account/password")
async def change_password(
    request: Request,
    viewer: ConsoleUser,
    store: StoreDep,
    csrf: Annotated[str, Form()] = "",
    current: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    repeat: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(viewer, csrf)
    user_id = viewer.principal.user_id
    if user_id is None:
        return _page(request, viewer, {"": "Logged in with an API key: there is no password to change."}, 400)
    throttle: LoginThrottle = request.app.state.console_logins
    client, now = request.client.host if request.client else "unknown", now_utc()
    if (locked := throttle.locked_until(client, now)) is not None:
        detail = f"Too many wrong passwords: try again after {locked.strftime('%H:%M:%S UTC')}."
        return _page(request, viewer, {"current": detail}, 429)
    if password != repeat:
        return _page(request, viewer, {"repeat": "does not match the new password"}, 422)
    try:
        async with store.unit_of_work() as uow:
            checked_hash = await password_hash_of(uow, user_id)
        if not await check_password(checked_hash, current):
            throttle.failed(client, now)
            return _page(request, viewer, {"current": "wrong password"}, 422)
        throttle.succeeded(client)
        new_hash = await hashed(password)
        async with store.unit_of_work() as uow:
            keep = session_id(request.cookies.get(SESSION_COOKIE, ""))
            await change_own_password(uow, user_id, checked_hash, new_hash, keep_session=keep)
    except ServiceError as exc:
        return _page(request, viewer, field_errors(exc), 409 if "meanwhile" in exc.detail else 422)
    return RedirectResponse("/account?saved=1", status_code=303)
