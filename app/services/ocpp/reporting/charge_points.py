"""Charge points as the API lists them, with their connectors."""

from collections.abc import Sequence

from app.domain.access import Scope
from app.domain.ocpp import ChargePoint, Connector
from app.domain.paging import Found, Window
from app.domain.persistence import UnitOfWork
from app.domain.queries import ChargePointFilter


async def list_charge_points(
    uow: UnitOfWork, window: Window, filters: ChargePointFilter
) -> Found[ChargePoint]:
    """By id."""
    return await uow.charge_points.list(window, filters)


async def get_charge_point(
    uow: UnitOfWork, charge_point_id: str, *, scope: Scope = None
) -> ChargePoint | None:
    if scope is not None and charge_point_id not in scope:
        return None
    return await uow.charge_points.get(charge_point_id)


async def connectors_of(uow: UnitOfWork, charge_point_ids: Sequence[str]) -> dict[str, list[Connector]]:
    return await uow.charge_points.connectors_of(charge_point_ids)
