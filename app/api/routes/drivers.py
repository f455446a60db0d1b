"""Drivers: the people who own id tags (name, e-mail, phone, note), and which tags each owns."""

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from app.api.deps import DriverDataReaderDep, OperatorDep, UowDep
from app.api.schemas import DriverCreate, DriverOut, DriverUpdate, Page, RowId, problems
from app.api.support import WindowDep, located, operation_id, paged, service_problems
from app.domain.queries import DriverView
from app.services.ocpp import drivers

router = APIRouter(
    prefix="/drivers",
    tags=["drivers"],
    responses=problems(401, 403, 422),
    generate_unique_id_function=operation_id,
)


def present(view: DriverView) -> DriverOut:
    return DriverOut.model_validate({**asdict(view.driver), "id_tags": view.id_tags})


@router.get("", summary="List drivers (the people owning id tags), by name")
async def list_drivers(
    uow: UowDep,
    _: DriverDataReaderDep,
    window: WindowDep,
    q: Annotated[
        str | None, Query(max_length=100, description="text in the name, e-mail, phone, note or a tag")
    ] = None,
) -> Page[DriverOut]:
    found = await drivers.list_drivers(uow, window, search=q)
    return paged([present(view) for view in found.items], found, window)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Add a driver, with the id tags it owns",
    responses={**located(201, "added"), **problems(422)},
)
async def create_driver(body: DriverCreate, uow: UowDep, _: OperatorDep, response: Response) -> DriverOut:
    with service_problems():
        view = await drivers.create_driver(uow, **body.model_dump())
    response.headers["Location"] = f"/api/v1/drivers/{view.driver.id}"
    return present(view)


@router.get("/{driver_id}", summary="A driver and its id tags", responses=problems(404))
async def get_driver(driver_id: RowId, uow: UowDep, _: DriverDataReaderDep) -> DriverOut:
    with service_problems():
        return present(await drivers.get_driver(uow, driver_id))


@router.patch(
    "/{driver_id}",
    summary="Change a driver's name, e-mail, phone or note, or the id tags it owns",
    responses=problems(404, 422),
)
async def update_driver(driver_id: RowId, body: DriverUpdate, uow: UowDep, _: OperatorDep) -> DriverOut:
    with service_problems():
        return present(await drivers.update_driver(uow, driver_id, body.model_dump(exclude_unset=True)))


@router.delete(
    "/{driver_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a driver (its id tags stay, owned by nobody)",
    responses=problems(404),
)
async def delete_driver(driver_id: RowId, uow: UowDep, _: OperatorDep) -> None:
    with service_problems():
        await drivers.delete_driver(uow, driver_id)
