"""A gateway's lease ran out: its charge points are disconnected, except one that another gateway holds by
then (it reconnected there while the lease was running out; what that gateway wrote is the newer news)."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from app.db.engine import Database, create_engine
from app.db.presence import SqlPresence
from app.db.store import SqlStore
from app.domain.bus import EventBus
from app.domain.events import ChargePointDisconnected, Event
from app.domain.ocpp import ChargePoint
from app.services.ocpp import charge_points

pytestmark = pytest.mark.anyio

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
async def store(pg_url: str) -> AsyncIterator[SqlStore]:
    database = Database(create_engine(pg_url))
    try:
        yield SqlStore(database, EventBus())
    finally:
        await database.dispose()


async def test_a_lost_gateways_charge_points_are_disconnected_unless_held_again(store: SqlStore) -> None:
    for cp_id in ("MOVED", "STRANDED"):
        async with store.unit_of_work() as uow:
            await uow.charge_points.add(ChargePoint(id=cp_id))
        await store.batched.set_connected(cp_id, True, NOW)
    presence = SqlPresence(store.database)
    await presence.renew("gw-live", 60.0)
    await presence.claim("MOVED", "gw-live", "connection-2")  # reconnected before the news came
    published: list[Event] = []
    store.bus.subscribe(published.append)

    await charge_points.holders_lost(store, ["MOVED", "STRANDED"], NOW)

    async with store.reading() as uow:
        moved, stranded = await uow.charge_points.get("MOVED"), await uow.charge_points.get("STRANDED")
    assert moved is not None
    assert moved.connected
    assert moved.connected_since == NOW
    assert stranded is not None
    assert not stranded.connected
    assert stranded.connected_since is None
    assert [(type(e), e.charge_point_id) for e in published] == [(ChargePointDisconnected, "STRANDED")]
