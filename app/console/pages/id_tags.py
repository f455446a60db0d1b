"""Id tags: the list with search and filters, adding one, and a tag's page to change its parent, expiry,
blocking, concurrent-transaction limit, note and owner (a driver), or to delete it, through the services
and request schemas of `/api/v1/id-tags`. Drivers' tags are not a grid operator's to see: the pages
refuse that role."""

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from app.api.deps import ClockDep, StoreDep
from app.api.schemas import IdTagCreate, IdTagUpdate
from app.console.auth import ConsoleUser, Viewer, check_csrf
from app.console.forms import FieldErrors, optional, parsed, submitted
from app.console.templating import render
from app.domain.ocpp import Driver
from app.domain.paging import Window
from app.domain.persistence import UnitOfWork
from app.domain.queries import IdTagFilter
from app.services.ocpp import drivers, registry, reporting

router = APIRouter(include_in_schema=False)

PAGE = 50
OWNERS_LISTED = 1000  # drivers offered as a tag's owner
STATES = {
    "blocked": IdTagFilter(blocked=True),
    "expired": IdTagFilter(expired=True),
    "charging": IdTagFilter(in_transaction=True),
}


class TagForm:
    """What the add and edit forms send, as the strings they are."""

    def __init__(
        self,
        tag: Annotated[str, Form(alias="id_tag")] = "",
        parent_id_tag: Annotated[str, Form()] = "",
        expiry_date: Annotated[str, Form()] = "",
        blocked: Annotated[str, Form()] = "",
        max_active_transactions: Annotated[str, Form()] = "",
        note: Annotated[str, Form()] = "",
        driver_id: Annotated[str, Form()] = "",
        csrf: Annotated[str, Form()] = "",
    ) -> None:
        self.values = {
            "id_tag": tag.strip(),
            "parent_id_tag": parent_id_tag,
            "expiry_date": expiry_date,
            "blocked": blocked,
            "max_active_transactions": max_active_transactions,
            "note": note,
            "driver_id": driver_id,
        }
        self.csrf = csrf

    def fields(self) -> dict[str, Any]:
        """The values as the API's request body: empty means none (no parent, expiry, note or owner)."""
        values = self.values
        body: dict[str, Any] = {
            "parent_id_tag": optional(values["parent_id_tag"]),
            "expiry_date": optional(values["expiry_date"]),
            "blocked": values["blocked"] == "on",
            "note": optional(values["note"]),
            "driver_id": optional(values["driver_id"]),
        }
        if values["max_active_transactions"].strip():
            body["max_active_transactions"] = values["max_active_transactions"].strip()
        return body


def _refused(request: Request, viewer: Viewer, status: int, detail: str) -> HTMLResponse:
    return render(request, "error.html", status, viewer=viewer, title="Not allowed", detail=detail)


def _may_not(viewer: Viewer, what: str) -> str:
    return f"The role {viewer.principal.role.value!r} may not {what}."


def _hidden(request: Request, viewer: Viewer) -> HTMLResponse | None:
    if viewer.sees_driver_data:
        return None
    return _refused(request, viewer, 403, "Drivers' id tags are not shown to the grid_operator role.")


async def _owners(uow: UnitOfWork) -> dict[int, Driver]:
    """The drivers a tag may belong to, by id (in name order)."""
    found = await drivers.list_drivers(uow, Window(OWNERS_LISTED, 0))
    return {view.driver.id: view.driver for view in found.items if view.driver.id is not None}


@router.get("/id-tags")
async def tag_list(
    request: Request,
    viewer: ConsoleUser,
    store: StoreDep,
    clock: ClockDep,
    q: str = "",
    state: str = "",
    offset: int = 0,
) -> HTMLResponse:
    return await _list(request, viewer, store, clock, q, state, max(0, offset))


async def _list(
    request: Request,
    viewer: Viewer,
    store: StoreDep,
    clock: ClockDep,
    q: str = "",
    state: str = "",
    offset: int = 0,
    form: TagForm | None = None,
    errors: FieldErrors | None = None,
) -> HTMLResponse:
    if (hidden := _hidden(request, viewer)) is not None:
        return hidden
    base = STATES.get(state, IdTagFilter())
    filters = IdTagFilter(base.blocked, base.expired, base.in_transaction, q.strip() or None)
    now = clock.now()
    async with store.unit_of_work() as uow:
        found = await reporting.list_id_tags(uow, Window(PAGE, offset), filters, now=now)
        owners = await _owners(uow)
    return render(
        request,
        "id_tags.html",
        422 if errors else 200,
        viewer=viewer,
        found=found,
        now=now,
        q=q,
        state=state,
        states=list(STATES),
        offset=offset,
        page=PAGE,
        values=form.values if form else {"max_active_transactions": "1"},
        errors=errors or {},
        owners=owners,
        deleted=request.query_params.get("deleted", ""),
    )


def _operators_only(request: Request, viewer: Viewer, what: str) -> HTMLResponse | None:
    return None if viewer.may_operate else _refused(request, viewer, 403, _may_not(viewer, what))


@router.post("/id-tags")
async def add_tag(
    request: Request,
    viewer: ConsoleUser,
    store: StoreDep,
    clock: ClockDep,
    form: Annotated[TagForm, Depends()],
) -> Response:
    check_csrf(viewer, form.csrf)
    if (refused := _operators_only(request, viewer, "add id tags")) is not None:
        return refused

    async def write(uow: UnitOfWork) -> str:
        body = parsed(IdTagCreate, {"id_tag": form.values["id_tag"], **form.fields()})
        await registry.create_id_tag(uow, **body.model_dump())
        return f"/id-tags/{quote(body.id_tag, safe='')}"

    async def again(errors: FieldErrors) -> Response:
        return await _list(request, viewer, store, clock, form=form, errors=errors)

    return await submitted(store, write, again)


async def _tag_page(
    request: Request,
    viewer: Viewer,
    store: StoreDep,
    clock: ClockDep,
    id_tag: str,
    form: TagForm | None = None,
    errors: FieldErrors | None = None,
    delete_error: str | None = None,
) -> HTMLResponse:
    if (hidden := _hidden(request, viewer)) is not None:
        return hidden
    async with store.unit_of_work() as uow:
        view = await reporting.get_id_tag(uow, id_tag)
        owners = await _owners(uow)
        owner = await uow.drivers.get(view.tag.driver_id) if view and view.tag.driver_id else None
    if view is None:
        detail = f"Id tag {id_tag!r} does not exist."
        return render(request, "error.html", 404, viewer=viewer, title="Not found", detail=detail)
    tag = view.tag
    values = (
        form.values
        if form
        else {
            "parent_id_tag": tag.parent_id_tag or "",
            "expiry_date": tag.expiry_date.strftime("%Y-%m-%dT%H:%M") if tag.expiry_date else "",
            "blocked": "on" if tag.blocked else "",
            "max_active_transactions": str(tag.max_active_transactions),
            "note": tag.note or "",
            "driver_id": str(tag.driver_id or ""),
        }
    )
    return render(
        request,
        "id_tag.html",
        422 if errors else 200,
        viewer=viewer,
        view=view,
        expired=view.expired(clock.now()),
        values=values,
        errors=errors or {},
        saved=request.query_params.get("saved") == "1",
        owners=owners | ({owner.id: owner} if owner and owner.id else {}),  # listed even beyond the first
        owner=owner,
        delete_error=delete_error,
    )


@router.get("/id-tags/{id_tag}")
async def tag_page(
    id_tag: str, request: Request, viewer: ConsoleUser, store: StoreDep, clock: ClockDep
) -> Response:
    return await _tag_page(request, viewer, store, clock, id_tag)


@router.post("/id-tags/{id_tag}")
async def change_tag(
    id_tag: str,
    request: Request,
    viewer: ConsoleUser,
    store: StoreDep,
    clock: ClockDep,
    form: Annotated[TagForm, Depends()],
) -> Response:
    check_csrf(viewer, form.csrf)
    if (refused := _operators_only(request, viewer, "change id tags")) is not None:
        return refused

    async def write(uow: UnitOfWork) -> str:
        body = parsed(IdTagUpdate, form.fields())
        await registry.update_id_tag(uow, id_tag, body.model_dump(exclude_unset=True))
        return f"/id-tags/{quote(id_tag, safe='')}?saved=1"

    async def again(errors: FieldErrors) -> Response:
        return await _tag_page(request, viewer, store, clock, id_tag, form, errors)

    return await submitted(store, write, again)


@router.post("/id-tags/{id_tag}/delete")
async def delete_tag(
    id_tag: str,
    request: Request,
    viewer: ConsoleUser,
    store: StoreDep,
    clock: ClockDep,
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """Remove the tag as `DELETE /api/v1/id-tags/{tag}` does: refused while it charges or is a parent."""
    check_csrf(viewer, csrf)
    if (refused := _operators_only(request, viewer, "delete id tags")) is not None:
        return refused

    async def write(uow: UnitOfWork) -> str:
        await registry.delete_id_tag(uow, id_tag)
        return f"/id-tags?deleted={quote(id_tag, safe='')}"

    async def again(errors: FieldErrors) -> Response:
        detail = next(iter(errors.values()))
        return await _tag_page(request, viewer, store, clock, id_tag, delete_error=f"Not deleted: {detail}")

    return await submitted(store, write, again)
