"""Console users, for admins: the list with search, adding a user (username, password, role, a grid
operator's sites), a new password, disabling and enabling; the same services as `smartcharge user`."""

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.api.deps import StoreDep
from app.console.auth import ConsoleUser, Viewer, check_csrf
from app.console.forms import FieldErrors, field_errors
from app.console.templating import render
from app.domain.enums import Role
from app.domain.paging import Window
from app.services.errors import ServiceError
from app.services.planning import sites
from app.services.users import create_user, disable_user, hashed, list_users, set_password

router = APIRouter(include_in_schema=False)

PAGE = 100
DONE = {"added": "added", "password": "has a new password", "disabled": "disabled", "enabled": "enabled"}


def _admins_only(request: Request, viewer: Viewer) -> HTMLResponse | None:
    if viewer.is_admin:
        return None
    detail = f"Console users are managed by admins; the role {viewer.principal.role.value!r} may not."
    return render(request, "error.html", 403, viewer=viewer, title="Not allowed", detail=detail)


async def _page(
    request: Request,
    viewer: Viewer,
    store: StoreDep,
    q: str = "",
    values: dict[str, object] | None = None,
    errors: FieldErrors | None = None,
    status: int = 200,
) -> HTMLResponse:
    if (refused := _admins_only(request, viewer)) is not None:
        return refused
    async with store.unit_of_work() as uow:
        found = await list_users(uow, Window(PAGE, 0), search=q.strip() or None)
        site_names = {site.id: site.name for site in await sites.list_sites(uow)}
    return render(
        request,
        "users.html",
        status,
        viewer=viewer,
        found=found,
        q=q,
        roles=[role.value for role in Role],
        site_names=site_names,
        values=values or {"role": Role.operator.value, "site_ids": []},
        errors=errors or {},
        done=DONE.get(request.query_params.get("done", "")),
        done_user=request.query_params.get("user", ""),
    )


@router.get("/users")
async def user_list(request: Request, viewer: ConsoleUser, store: StoreDep, q: str = "") -> HTMLResponse:
    return await _page(request, viewer, store, q)


@router.post("/users")
async def add_user(
    request: Request,
    viewer: ConsoleUser,
    store: StoreDep,
    csrf: Annotated[str, Form()] = "",
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "",
    site_ids: Annotated[list[int] | None, Form()] = None,
) -> Response:
    check_csrf(viewer, csrf)
    if (refused := _admins_only(request, viewer)) is not None:
        return refused
    values: dict[str, object] = {"username": username, "role": role, "site_ids": site_ids or []}
    if role not in {r.value for r in Role}:
        errors = {"role": "one of " + ", ".join(r.value for r in Role)}
        return await _page(request, viewer, store, values=values, errors=errors, status=422)
    try:
        password_hash = await hashed(password)
        async with store.unit_of_work() as uow:
            user = await create_user(uow, username, password_hash, Role(role), site_ids=site_ids)
    except ServiceError as exc:
        return await _page(request, viewer, store, values=values, errors=field_errors(exc), status=422)
    return RedirectResponse(f"/users?done=added&user={user.username}", status_code=303)


@router.post("/users/{user_id}/password")
async def new_password(
    user_id: int,
    request: Request,
    viewer: ConsoleUser,
    store: StoreDep,
    csrf: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(viewer, csrf)
    if (refused := _admins_only(request, viewer)) is not None:
        return refused
    try:
        password_hash = await hashed(password)
        async with store.unit_of_work() as uow:
            user = await set_password(uow, user_id, password_hash)
    except ServiceError as exc:
        errors = {f"password-{user_id}": next(iter(field_errors(exc).values()))}
        return await _page(request, viewer, store, errors=errors, status=422)
    return RedirectResponse(f"/users?done=password&user={user.username}", status_code=303)


@router.post("/users/{user_id}/disabled")
async def set_disabled(
    user_id: int,
    request: Request,
    viewer: ConsoleUser,
    store: StoreDep,
    csrf: Annotated[str, Form()] = "",
    disabled: Annotated[bool, Form()] = True,
) -> Response:
    check_csrf(viewer, csrf)
    if (refused := _admins_only(request, viewer)) is not None:
        return refused
    if disabled and user_id == viewer.principal.user_id:
        errors = {"": "You cannot disable the user you are logged in as."}
        return await _page(request, viewer, store, errors=errors, status=409)
    try:
        async with store.unit_of_work() as uow:
            user = await disable_user(uow, user_id, disabled=disabled)
    except ServiceError as exc:
        return await _page(request, viewer, store, errors={"": exc.detail}, status=404)
    state = "disabled" if disabled else "enabled"
    return RedirectResponse(f"/users?done={state}&user={user.username}", status_code=303)
