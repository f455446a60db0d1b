"""Rows the gateway would write (transactions, meter values, statuses, …), inserted directly."""

from datetime import datetime
from typing import Any

from sqlmodel import SQLModel

from app.db.engine import Database
from app.domain.ocpp import ChargePoint, MeterValue, Transaction

_dedup = iter(range(1, 1_000_000))


async def add(database: Database, *rows: SQLModel) -> list[Any]:
    async with database.session() as session:
        session.add_all(rows)
        await session.flush()
    return list(rows)


async def charge_point(database: Database, charge_point_id: str, **fields: Any) -> ChargePoint:
    (row,) = await add(database, ChargePoint(id=charge_point_id, **fields))
    return row  # type: ignore[no-any-return]


async def transaction(
    database: Database,
    charge_point_id: str,
    start: datetime,
    *,
    stop: datetime | None = None,
    id_tag: str = "TAG1",
    connector_id: int = 1,
    meter_start_wh: int = 1000,
    meter_stop_wh: int | None = None,
) -> Transaction:
    (row,) = await add(
        database,
        Transaction(
            charge_point_id=charge_point_id,
            connector_id=connector_id,
            id_tag=id_tag,
            start_timestamp=start,
            meter_start_wh=meter_start_wh,
            stop_timestamp=stop,
            meter_stop_wh=meter_stop_wh,
            stop_reason="Local" if stop else None,
        ),
    )
    return row  # type: ignore[no-any-return]


def meter_value(
    charge_point_id: str,
    timestamp: datetime,
    value_wh: float,
    *,
    transaction_id: int | None = None,
    measurand: str = "Energy.Active.Import.Register",
    unit: str = "Wh",
    phase: str | None = None,
    connector_id: int = 1,
) -> MeterValue:
    normalised = value_wh * 1000 if unit in ("kWh", "kW") else value_wh
    unit_normalised = {"kWh": "Wh", "kW": "W"}.get(unit, unit)
    return MeterValue(
        charge_point_id=charge_point_id,
        connector_id=connector_id,
        transaction_id=transaction_id,
        timestamp=timestamp,
        value=str(value_wh),
        measurand=measurand,
        unit=unit,
        phase=phase,
        value_normalised=normalised,
        unit_normalised=unit_normalised,
        dedup_key=f"test-{next(_dedup)}",
    )
