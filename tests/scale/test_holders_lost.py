"""A gateway's lease ran out: its charge points are disconnected, except one that another gateway holds by
then (it reconnected there while the lease was running out; what that gateway wrote is the newer news); and
a gateway whose lease was reaped while it still held its connections claims them again and hears which."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from app.cluster.presence import LeaseKeeper
from app.db.engine import Database, create_engine
from app.db.presence import SqlPresence
from app.db.store import SqlStore
from app.domain.bus import EventBus
from app.domain.events import ChargePointDisconnected, Event
from app.domain.ocpp import ChargePoint
from app.services.ocpp import charge_points
from tests.gateway.helpers import eventually

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


async def test_a_gateway_whose_lease_was_reaped_claims_again_what_no_other_took(store: SqlStore) -> None:
    presence = SqlPresence(store.database)
    await presence.renew("gw-slow", 0.001)  # its lease runs out at once (a stalled renewal)
    await presence.claim("HERE", "gw-slow", "c1")
    await presence.claim("MOVED", "gw-slow", "c2")
    assert sorted(await eventually(presence.reap)) == ["HERE", "MOVED"]  # another process reaps it
    await presence.renew("gw-other", 60.0)
    await presence.claim("MOVED", "gw-other", "c3")  # reconnected there meanwhile
    reclaimed: list[list[str]] = []

    async def record(charge_point_ids: list[str]) -> None:
        reclaimed.append(charge_point_ids)

    async def nothing_lost(_: list[str]) -> None:
        return None

    held = {"HERE": "c1", "MOVED": "c2"}
    keeper = LeaseKeeper(
        presence, lease_s=60.0, on_lost=nothing_lost, gateway=("gw-slow", lambda: held), reclaimed=record
    )
    await keeper.tick()  # its next renewal finds no lease: it claims its connections again

    assert reclaimed == [["HERE"]]
    here, moved = await presence.holder("HERE"), await presence.holder("MOVED")
    assert here is not None
    assert here.gateway_id == "gw-slow"
    assert moved is not None
    assert moved.gateway_id == "gw-other"
