"""Operator overrides: cap, fix, pause or prioritise a site, group, charge point, connector or transaction."""

from dataclasses import asdict
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Response, status

from app.api.deps import ClockDep, OperatorDep, UowDep, require
from app.api.schemas import (
    OverrideAuditOut,
    OverrideCreate,
    OverrideOut,
    OverrideUpdate,
    Page,
    RowId,
    problems,
)
from app.api.support import WindowDep, paged, service_problems
from app.domain.access import Principal
from app.domain.enums import Role
from app.domain.planning import Override, OverrideKind, OverrideScope
from app.services.planning import overrides

router = APIRouter(prefix="/overrides", tags=["overrides"], responses=problems(401, 403))

OverrideReaderDep = Annotated[Principal, Depends(require(Role.operator, Role.analyst))]


def present(override: Override, now: datetime) -> OverrideOut:
    return OverrideOut.model_validate(
        {**asdict(override), "status": overrides.override_status(override, now)}
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Add an override (author: the API key); the scheduler replans",
    responses=problems(404, 422),
)
async def create_override(
    body: OverrideCreate, uow: UowDep, principal: OperatorDep, clock: ClockDep, response: Response
) -> OverrideOut:
    now = clock.now()
    with service_problems():
        override = await overrides.create_override(
            uow,
            overrides.spec_from(body.model_dump(), now=now),
            now=now,
            author=principal.name,
            author_key_id=principal.key_id,
        )
    response.headers["Location"] = f"/api/v1/overrides/{override.id}"
    return present(override, now)


@router.get("", summary="List overrides, newest first (deleted ones only with include_deleted)")
async def list_overrides(
    uow: UowDep,
    _: OverrideReaderDep,
    clock: ClockDep,
    window: WindowDep,
    active: bool | None = None,
    include_deleted: bool = False,
    site_id: RowId | None = None,
    scope: OverrideScope | None = None,
    kind: OverrideKind | None = None,
    charge_point_id: str | None = None,
    transaction_id: RowId | None = None,
) -> Page[OverrideOut]:
    now = clock.now()
    found = await overrides.list_overrides(
        uow,
        window,
        now=now,
        active=active,
        include_deleted=include_deleted,
        site_id=site_id,
        scope=scope,
        kind=kind,
        charge_point_id=charge_point_id,
        transaction_id=transaction_id,
    )
    return paged([present(o, now) for o in found.items], found, window)


@router.get("/{override_id}", summary="An override", responses=problems(404))
async def get_override(override_id: RowId, uow: UowDep, _: OverrideReaderDep, clock: ClockDep) -> OverrideOut:
    with service_problems():
        return present(await overrides.get_override(uow, override_id), clock.now())


@router.patch(
    "/{override_id}",
    summary="Change an override's value, end or reason (audited; the scheduler replans)",
    responses=problems(404, 409, 422),
)
async def update_override(
    override_id: RowId, body: OverrideUpdate, uow: UowDep, principal: OperatorDep, clock: ClockDep
) -> OverrideOut:
    now = clock.now()
    with service_problems():
        override = await overrides.update_override(
            uow,
            override_id,
            body.model_dump(exclude_unset=True),
            now=now,
            author=principal.name,
            author_key_id=principal.key_id,
        )
    return present(override, now)


@router.delete(
    "/{override_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Withdraw an override (kept and audited; again: no change)",
    responses=problems(404),
)
async def delete_override(override_id: RowId, uow: UowDep, principal: OperatorDep, clock: ClockDep) -> None:
    with service_problems():
        await overrides.delete_override(
            uow, override_id, now=clock.now(), author=principal.name, author_key_id=principal.key_id
        )


@router.get("/{override_id}/audit", summary="Every change to an override", responses=problems(404))
async def list_audit(override_id: RowId, uow: UowDep, _: OverrideReaderDep) -> list[OverrideAuditOut]:
    with service_problems():
        return [OverrideAuditOut.model_validate(a) for a in await overrides.list_audit(uow, override_id)]
