"""Meter values as series."""

from app.domain.ocpp import MeterValue
from app.domain.paging import Found, Window
from app.domain.persistence import UnitOfWork
from app.domain.queries import MeterValueFilter


async def list_meter_values(uow: UnitOfWork, window: Window, filters: MeterValueFilter) -> Found[MeterValue]:
    """Oldest first: a meter series reads forward in time."""
    return await uow.meter_values.list(window, filters)
