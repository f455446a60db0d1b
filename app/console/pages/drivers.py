"""Drivers, the people who own id tags (SteVe's users): the list with search, adding one, and a driver's
page to change its name, e-mail, phone, note and the tags it owns, or to delete it, through the services
and request schemas of `/api/v1/drivers`. Like id tags, they are not a grid operator's to see."""

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from app.api.deps import StoreDep
from app.api.schemas import DriverCreate, DriverUpdate
from app.console.auth import ConsoleUser, Viewer, check_csrf
from app.console.forms import FieldErrors, optional, parsed, submitted
from app.console.templating import render
from app.domain.paging import Window
from app.domain.persistence import UnitOfWork
from app.services.errors import NotFound
from app.services.ocpp import drivers

router = APIRouter(include_in_schema=False)

PAGE = 50


class DriverForm:
    """What the add and edit forms send, as the strings they are; tags one per line or comma-separated."""

    def __init__(
        self,
        name: Annotated[str, Form()] = "",
        email: Annotated[str, Form()] = "",
        phone: Annotated[str, Form()] = "",
        note: Annotated[str, Form()] = "",
        id_tags: Annotated[str, Form()] = "",
        csrf: Annotated[str, Form()] = "",
    ) -> None:
        self.values = {"name": name, "email": email, "phone": phone, "note": note, "id_tags": id_tags}
        self.csrf = csrf

    def fields(self) -> dict[str, Any]:
        """The values as the API's request body: an empty field means none."""
        values = self.values
        tags = [tag.strip() for line in values["id_tags"].splitlines() for tag in line.split(",")]
        return {
            "name": values["name"],
            "email": optional(values["email"]),
            "phone": optional(values["phone"]),
            "note": optional(values["note"]),
            "id_tags": [tag for tag in tags if tag],
        }


def _refused(request: Request, viewer: Viewer, detail: str, status: int = 403) -> HTMLResponse:
    return render(request, "error.html", status, viewer=viewer, title="Not allowed", detail=detail)


def _not_shown(request: Request, viewer: Viewer, what: str | None = None) -> HTMLResponse | None:
    """Refused unless the viewer sees drivers (and, for `what`, may change them)."""
    if not viewer.sees_driver_data:
        return _refused(request, viewer, "Drivers are not shown to the grid_operator role.")
    if what is not None and not viewer.may_operate:
        return _refused(request, viewer, f"The role {viewer.principal.role.value!r} may not {what}.")
    return None


@router.get("/drivers")
async def driver_list(
    request: Request, viewer: ConsoleUser, store: StoreDep, q: str = "", offset: int = 0
) -> HTMLResponse:
    return await _list(request, viewer, store, q, max(0, offset))


async def _list(
    request: Request,
    viewer: Viewer,
    store: StoreDep,
    q: str = "",
    offset: int = 0,
    form: DriverForm | None = None,
    errors: FieldErrors | None = None,
) -> HTMLResponse:
    if (refused := _not_shown(request, viewer)) is not None:
        return refused
    async with store.unit_of_work() as uow:
        found = await drivers.list_drivers(uow, Window(PAGE, offset), search=q.strip() or None)
    return render(
        request,
        "drivers.html",
        422 if errors else 200,
        viewer=viewer,
        found=found,
        q=q,
        offset=offset,
        page=PAGE,
        values=form.values if form else {},
        errors=errors or {},
        deleted=request.query_params.get("deleted", ""),
    )


@router.post("/drivers")
async def add_driver(
    request: Request, viewer: ConsoleUser, store: StoreDep, form: Annotated[DriverForm, Depends()]
) -> Response:
    check_csrf(viewer, form.csrf)
    if (refused := _not_shown(request, viewer, "add drivers")) is not None:
        return refused

    async def write(uow: UnitOfWork) -> str:
        view = await drivers.create_driver(uow, **parsed(DriverCreate, form.fields()).model_dump())
        return f"/drivers/{view.driver.id}"

    async def again(errors: FieldErrors) -> Response:
        return await _list(request, viewer, store, form=form, errors=errors)

    return await submitted(store, write, again)


async def _driver_page(
    request: Request,
    viewer: Viewer,
    store: StoreDep,
    driver_id: int,
    form: DriverForm | None = None,
    errors: FieldErrors | None = None,
) -> HTMLResponse:
    if (refused := _not_shown(request, viewer)) is not None:
        return refused
    try:
        async with store.unit_of_work() as uow:
            view = await drivers.get_driver(uow, driver_id)
    except NotFound:
        detail = f"Driver {driver_id} does not exist."
        return render(request, "error.html", 404, viewer=viewer, title="Not found", detail=detail)
    driver = view.driver
    values = form.values if form else {
        "name": driver.name,
        "email": driver.email or "",
        "phone": driver.phone or "",
        "note": driver.note or "",
        "id_tags": "\n".join(view.id_tags),
    }  # fmt: skip
    return render(
        request,
        "driver.html",
        422 if errors else 200,
        viewer=viewer,
        view=view,
        values=values,
        errors=errors or {},
        saved=request.query_params.get("saved") == "1",
    )


@router.get("/drivers/{driver_id}")
async def driver_page(driver_id: int, request: Request, viewer: ConsoleUser, store: StoreDep) -> Response:
    return await _driver_page(request, viewer, store, driver_id)


@router.post("/drivers/{driver_id}")
async def change_driver(
    driver_id: int,
    request: Request,
    viewer: ConsoleUser,
    store: StoreDep,
    form: Annotated[DriverForm, Depends()],
) -> Response:
    check_csrf(viewer, form.csrf)
    if (refused := _not_shown(request, viewer, "change drivers")) is not None:
        return refused

    async def write(uow: UnitOfWork) -> str:
        body = parsed(DriverUpdate, form.fields())
        await drivers.update_driver(uow, driver_id, body.model_dump(exclude_unset=True))
        return f"/drivers/{driver_id}?saved=1"

    async def again(errors: FieldErrors) -> Response:
        return await _driver_page(request, viewer, store, driver_id, form, errors)

    return await submitted(store, write, again)


@router.post("/drivers/{driver_id}/delete")
async def delete_driver(
    driver_id: int,
    request: Request,
    viewer: ConsoleUser,
    store: StoreDep,
    csrf: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(viewer, csrf)
    if (refused := _not_shown(request, viewer, "delete drivers")) is not None:
        return refused

    async def write(uow: UnitOfWork) -> str:
        name = (await drivers.get_driver(uow, driver_id)).driver.name
        await drivers.delete_driver(uow, driver_id)
        return f"/drivers?{urlencode({'deleted': name})}"

    async def again(errors: FieldErrors) -> Response:
        return await _driver_page(request, viewer, store, driver_id, errors=errors)

    return await submitted(store, write, again)
