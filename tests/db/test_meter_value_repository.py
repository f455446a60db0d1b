"""The one delivered-energy query: each transaction's latest energy register in Wh over all phases."""

from datetime import UTC, datetime, timedelta

import pytest

from app.db.engine import Database
from app.db.store import SqlUnitOfWork
from app.domain.ocpp import ChargePoint
from tests.api import seed

pytestmark = pytest.mark.anyio

T0 = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)


async def test_latest_register_wh(database: Database) -> None:
    await seed.add(database, ChargePoint(id="CP1"))
    plain, mixed, phased, none = [
        (await seed.transaction(database, "CP1", T0, connector_id=n)).id for n in (1, 2, 3, 4)
    ]
    assert None not in (plain, mixed, phased, none)
    later = T0 + timedelta(minutes=5)
    await seed.add(
        database,
        seed.meter_value("CP1", T0, 1000, transaction_id=plain),
        seed.meter_value("CP1", later, 1500, transaction_id=plain),
        seed.meter_value("CP1", T0 - timedelta(minutes=1), 9000, transaction_id=plain),  # older, larger
        # kWh counts, normalised to Wh; at the latest time the largest value wins.
        seed.meter_value("CP1", later, 2.5, transaction_id=mixed, unit="kWh"),
        seed.meter_value("CP1", later, 2400, transaction_id=mixed),
        # a later reading per phase or in another unit is not the register over all phases in Wh
        seed.meter_value("CP1", T0, 700, transaction_id=phased),
        seed.meter_value("CP1", later, 800, transaction_id=phased, phase="L1"),
        seed.meter_value("CP1", later, 1.0, transaction_id=phased, unit="varh"),
        # another measurand is no register
        seed.meter_value("CP1", later, 11000, transaction_id=none, measurand="Power.Active.Import", unit="W"),
    )
    async with database.session() as session:
        registers = await SqlUnitOfWork(session).meter_values.latest_register_wh([plain, mixed, phased, none])
        assert await SqlUnitOfWork(session).meter_values.latest_register_wh([]) == {}
    assert registers == {plain: 1500.0, mixed: 2500.0, phased: 700.0}


async def test_transaction_energy_uses_it_while_active(database: Database) -> None:
    from app.services.ocpp.reporting import get_transaction

    await seed.add(database, ChargePoint(id="CP1"))
    active = await seed.transaction(database, "CP1", T0, meter_start_wh=1000)
    stopped = await seed.transaction(
        database, "CP1", T0, connector_id=2, stop=T0 + timedelta(hours=1), meter_stop_wh=4000
    )
    await seed.add(
        database,
        seed.meter_value("CP1", T0 + timedelta(minutes=1), 1.75, transaction_id=active.id, unit="kWh"),
    )
    async with database.session() as session:
        uow = SqlUnitOfWork(session)
        assert active.id is not None
        assert stopped.id is not None
        active_view = await get_transaction(uow, active.id)
        stopped_view = await get_transaction(uow, stopped.id)
    assert active_view is not None
    assert stopped_view is not None
    assert (active_view.active, active_view.energy_wh) == (True, 750.0)
    assert (stopped_view.active, stopped_view.energy_wh) == (False, 3000.0)
