"""A scripted session (`simulator.session`) against the test central system over a real WebSocket: it
follows the limits it is sent and says so; a connection that is not OCPP 1.6J, or a boot left Pending, is a
refusal."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from websockets.asyncio.server import ServerConnection, serve

from app.domain.clock import ScaledClock
from simulator import ScriptedSession, run_session, session_lines
from simulator.ev import EVModel
from tests.simulator.central import CentralSystem
from tests.simulator.test_charge_point import ten_amps

pytestmark = pytest.mark.anyio

MODEL = EVModel("Test 11 kW", battery_kwh=60.0, max_ac_kw=11.0, phases=3, registrations=1)


@pytest.fixture
async def central() -> AsyncIterator[CentralSystem]:
    system = CentralSystem(heartbeat_s=3600)
    await system.start()
    try:
        yield system
    finally:
        await system.stop()


def clock() -> ScaledClock:
    return ScaledClock(600.0, datetime.now(UTC))


async def test_a_session_charges_under_the_profile_it_is_sent(central: CentralSystem) -> None:
    central.tx_profile = ten_amps
    script = ScriptedSession(central.url, "CP7", "TAG7", minutes=30, energy_kwh=20)
    report = await run_session(script, clock(), ev=MODEL)

    assert report.ok, session_lines(report)
    session = report.session
    assert session is not None
    start, stop = central.of("StartTransaction")[0], central.of("StopTransaction")[0]
    assert session.transaction_id == start["assigned"] == stop["transaction_id"]
    assert (start["id_tag"], start["connector_id"], stop["reason"]) == ("TAG7", 1, "Local")
    assert session.authorization == "Accepted"
    assert [(p.purpose, p.unit, p.limits, p.status) for p in report.profiles] == [
        ("TxProfile", "A", (10.0,), "Accepted")
    ]
    delivered_wh = stop["meter_stop"] - start["meter_start"]
    assert session.delivered_kwh * 1000 == pytest.approx(delivered_wh, abs=1)
    assert delivered_wh == pytest.approx(6900 * 0.5, rel=0.03)  # 10 A × 3 × 230 V, not the EV's 11 kW
    lines = session_lines(report)
    assert f"transaction {start['assigned']} started" in lines
    assert "  " + str(report.profiles[0]) in lines


async def test_a_refused_tag_ends_the_session_at_once(central: CentralSystem) -> None:
    central.invalid_tags.add("BAD")
    report = await run_session(ScriptedSession(central.url, "CP8", "BAD", minutes=600), clock(), ev=MODEL)

    assert not report.ok
    assert report.session is not None
    assert (report.session.authorized, report.session.authorization) == (False, "Invalid")
    assert central.of("StartTransaction") == []
    assert "id tag BAD: not authorised (Invalid)" in session_lines(report)


async def test_a_boot_left_pending_is_reported(central: CentralSystem) -> None:
    central.boot_status = "Pending"
    report = await run_session(ScriptedSession(central.url, "CP9", "TAG9"), clock(), ev=MODEL)

    assert report.refusal is not None
    assert "BootNotification answered Pending" in str(report.refusal)
    assert "accept CP9" in str(report.refusal)


async def test_an_endpoint_without_ocpp16_is_a_refusal() -> None:
    async def silent(connection: ServerConnection) -> None:
        await connection.wait_closed()

    async with serve(silent, "127.0.0.1", 0) as server:  # a WebSocket server that speaks no subprotocol
        port = server.sockets[0].getsockname()[1]
        script = ScriptedSession(f"ws://127.0.0.1:{port}/ocpp", "CP1", "TAG1", connect_timeout_real_s=20)
        report = await run_session(script, clock(), ev=MODEL)

    assert report.refusal is not None
    assert "did not agree on subprotocol ocpp1.6 (it chose none)" in str(report.refusal)
    assert report.session is None
