"""Id tags: the tokens (RFID cards, apps) that may start and stop charging."""

from dataclasses import asdict
from datetime import datetime
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Path, Query, Response, status

from app.api.deps import ClockDep, DriverDataReaderDep, OperatorDep, UowDep
from app.api.errors import Problem
from app.api.schemas import IdTagCreate, IdTagOut, IdTagUpdate, Page, RowId, problems
from app.api.support import WindowDep, located, operation_id, paged, service_problems
from app.services.ocpp import registry, reporting
from app.services.ocpp.reporting import IdTagFilter, IdTagView

router = APIRouter(
    prefix="/id-tags",
    tags=["id tags"],
    responses=problems(401, 403, 422),
    generate_unique_id_function=operation_id,
)

IdTagPath = Annotated[str, Path(min_length=1, max_length=20)]


def present(view: IdTagView, now: datetime) -> IdTagOut:
    return IdTagOut.model_validate(
        {
            **asdict(view.tag),
            "expired": view.expired(now),
            "active_transactions": view.active_transactions,
        }
    )


@router.get("", summary="List id tags")
async def list_id_tags(
    uow: UowDep,
    clock: ClockDep,
    _: DriverDataReaderDep,
    window: WindowDep,
    blocked: bool | None = None,
    expired: Annotated[bool | None, Query(description="expiry date passed")] = None,
    in_transaction: Annotated[bool | None, Query(description="in an active transaction")] = None,
    q: Annotated[str | None, Query(max_length=100, description="text in the tag or its note")] = None,
    driver_id: Annotated[RowId | None, Query(description="owned by this driver")] = None,
) -> Page[IdTagOut]:
    now = clock.now()
    filters = IdTagFilter(
        blocked=blocked, expired=expired, in_transaction=in_transaction, search=q, driver_id=driver_id
    )
    page = await reporting.list_id_tags(uow, window, filters, now=now)
    return paged([present(view, now) for view in page.items], page, window)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Add an id tag",
    responses={**located(201, "added"), **problems(409, 422)},
)
async def create_id_tag(
    body: IdTagCreate, uow: UowDep, clock: ClockDep, _: OperatorDep, response: Response
) -> IdTagOut:
    with service_problems():
        tag = await registry.create_id_tag(uow, **body.model_dump())
    response.headers["Location"] = f"/api/v1/id-tags/{quote(tag.id_tag, safe='')}"
    return present(IdTagView(tag, 0), clock.now())


@router.get("/{id_tag}", summary="An id tag", responses=problems(404))
async def get_id_tag(id_tag: IdTagPath, uow: UowDep, clock: ClockDep, _: DriverDataReaderDep) -> IdTagOut:
    view = await reporting.get_id_tag(uow, id_tag)
    if view is None:
        raise Problem(404, f"id tag {id_tag!r} does not exist")
    return present(view, clock.now())


@router.patch(
    "/{id_tag}",
    summary="Change parent, expiry, blocking, concurrency, note or owner (driver_id)",
    responses=problems(404, 422),
)
async def update_id_tag(
    id_tag: IdTagPath, body: IdTagUpdate, uow: UowDep, clock: ClockDep, _: OperatorDep
) -> IdTagOut:
    with service_problems():
        await registry.update_id_tag(uow, id_tag, body.model_dump(exclude_unset=True))
    view = await reporting.get_id_tag(uow, id_tag)
    assert view is not None
    return present(view, clock.now())


@router.delete(
    "/{id_tag}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove an id tag (its transactions keep it)",
    responses=problems(404, 409),
)
async def delete_id_tag(id_tag: IdTagPath, uow: UowDep, _: OperatorDep) -> None:
    with service_problems():
        await registry.delete_id_tag(uow, id_tag)
