"""Id tags: the list with search and filters, adding one, and a tag's page to change its parent, expiry,
blocking, concurrent-transaction limit and note, through the services and request schemas of
`/api/v1/id-tags`. Drivers' tags are not a grid operator's to see: the pages refuse that role."""

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.api.deps import ClockDep, StoreDep
from app.api.schemas import IdTagCreate, IdTagUpdate
from app.console.auth import ConsoleUser, Viewer, check_csrf
from app.console.forms import FieldErrors, Refused, field_errors, optional, parsed
from app.console.templating import render
from app.domain.paging import Window
from app.domain.queries import IdTagFilter
from app.services.errors import ServiceError
from app.services.ocpp import registry, reporting

router = APIRouter(include_in_schema=False)

PAGE = 50
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
        csrf: Annotated[str, Form()] = "",
    ) -> None:
        self.values = {
            "id_tag": tag.strip(),
            "parent_id_tag": parent_id_tag,
            "expiry_date": expiry_date,
            "blocked": blocked,
            "max_active_transactions": max_active_transactions,
            "note": note,
        }
        self.csrf = csrf

    def fields(self) -> dict[str, Any]:
        """The values as the API's request body: empty means none (no parent, no expiry, no note)."""
        values = self.values
        body: dict[str, Any] = {
            "parent_id_tag": optional(values["parent_id_tag"]),
            "expiry_date": optional(values["expiry_date"]),
            "blocked": values["blocked"] == "on",
            "note": optional(values["note"]),
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
    )


@router.post("/id-tags")
async def add_tag(
    request: Request,
    viewer: ConsoleUser,
    store: StoreDep,
    clock: ClockDep,
    form: Annotated[TagForm, Depends()],
) -> Response:
    check_csrf(viewer, form.csrf)
    if not viewer.may_operate:
        return _refused(
            request, viewer, 403, f"The role {viewer.principal.role.value!r} may not add id tags."
        )
    try:
        body = parsed(IdTagCreate, {"id_tag": form.values["id_tag"], **form.fields()})
        async with store.unit_of_work() as uow:
            await registry.create_id_tag(uow, **body.model_dump())
    except Refused as refused:
        return await _list(request, viewer, store, clock, form=form, errors=refused.errors)
    except ServiceError as exc:
        return await _list(request, viewer, store, clock, form=form, errors=field_errors(exc))
    return RedirectResponse(f"/id-tags/{quote(body.id_tag, safe='')}", status_code=303)


async def _tag_page(
    request: Request,
    viewer: Viewer,
    store: StoreDep,
    clock: ClockDep,
    id_tag: str,
    form: TagForm | None = None,
    errors: FieldErrors | None = None,
) -> HTMLResponse:
    if (hidden := _hidden(request, viewer)) is not None:
        return hidden
    async with store.unit_of_work() as uow:
        view = await reporting.get_id_tag(uow, id_tag)
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
    if not viewer.may_operate:
        return _refused(
            request, viewer, 403, f"The role {viewer.principal.role.value!r} may not change id tags."
        )
    try:
        body = parsed(IdTagUpdate, form.fields())
        async with store.unit_of_work() as uow:
            await registry.update_id_tag(uow, id_tag, body.model_dump(exclude_unset=True))
    except Refused as refused:
        return await _tag_page(request, viewer, store, clock, id_tag, form, refused.errors)
    except ServiceError as exc:
        return await _tag_page(request, viewer, store, clock, id_tag, form, field_errors(exc))
    return RedirectResponse(f"/id-tags/{quote(id_tag, safe='')}?saved=1", status_code=303)
