"""Central-system operations a simulated charge point answers, over a real WebSocket on loopback."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from ocpp.v16 import call

from app.domain.clock import ScaledClock
from simulator.charge_point import ChargePointSpec, SimulatedChargePoint
from simulator.dataset import SessionPlan
from simulator.ev import EVModel
from simulator.link import Timing
from tests.simulator.central import CentralSystem, ServerChargePoint, eventually

pytestmark = pytest.mark.anyio

START = datetime(2024, 3, 4, 8, 0, tzinfo=UTC)
MODEL = EVModel("Test 11 kW", battery_kwh=60.0, max_ac_kw=11.0, phases=3, registrations=1)
TIMING = Timing(tick_s=10, backoff_initial_s=2, backoff_max_s=30, finishing_s=30, boot_retry_s=60)


def visit(arrive_min: float, stay_min: float) -> SessionPlan:
    arrival = START + timedelta(minutes=arrive_min)
    return SessionPlan(arrival, arrival + timedelta(minutes=stay_min), 20.0, MODEL, 0.3)


@pytest.fixture
async def central() -> AsyncIterator[CentralSystem]:
    system = CentralSystem(heartbeat_s=3600)
    await system.start()
    try:
        yield system
    finally:
        await system.stop()


def charge_point(
    central: CentralSystem, plans: list[SessionPlan], speed: float, **spec: Any
) -> SimulatedChargePoint:
    return SimulatedChargePoint(
        ChargePointSpec("CP-OPS", connectors=2, **spec),
        central.url,
        ScaledClock(speed=speed, start=START),
        {1: plans},
        id_tags=lambda: "TAG-LOCAL",
        timing=TIMING,
        configuration={"MeterValueSampleInterval": "60"},
    )


async def connected(central: CentralSystem, cp: SimulatedChargePoint) -> ServerChargePoint:
    cp.start()
    await eventually(lambda: cp.online and "CP-OPS" in central.connections)
    return central.connections["CP-OPS"]


def statuses(central: CentralSystem, connector_id: int) -> list[str]:
    return [s["status"] for s in central.of("StatusNotification") if s["connector_id"] == connector_id]


async def test_configuration_profiles_data_lists_reservations(central: CentralSystem) -> None:
    cp = charge_point(central, [], speed=60)
    server = await connected(central, cp)
    try:
        everything = await server.call(call.GetConfiguration())
        keys = {k["key"]: k for k in everything.configuration_key}
        assert keys["ChargingScheduleAllowedChargingRateUnit"]["value"] == "Current,Power"
        assert keys["ChargingScheduleMaxPeriods"]["value"] == "24"
        assert keys["NumberOfConnectors"] == {"key": "NumberOfConnectors", "readonly": True, "value": "2"}
        assert keys["HeartbeatInterval"]["value"] == "3600"  # taken from the BootNotification.conf
        some = await server.call(call.GetConfiguration(key=["MeterValueSampleInterval", "NoSuchKey"]))
        assert [k["value"] for k in some.configuration_key] == ["60"]
        assert some.unknown_key == ["NoSuchKey"]

        change = server.call
        assert (
            await change(call.ChangeConfiguration(key="MeterValueSampleInterval", value="30"))
        ).status == ("Accepted")
        assert cp.config.get_int("MeterValueSampleInterval") == 30
        assert (
            await change(call.ChangeConfiguration(key="NumberOfConnectors", value="4"))
        ).status == "Rejected"
        assert (
            await change(call.ChangeConfiguration(key="HeartbeatInterval", value="soon"))
        ).status == "Rejected"
        assert (await change(call.ChangeConfiguration(key="NoSuchKey", value="1"))).status == "NotSupported"

        default = {
            "chargingProfileId": 3,
            "stackLevel": 0,
            "chargingProfilePurpose": "TxDefaultProfile",
            "chargingProfileKind": "Absolute",
            "chargingSchedule": {
                "chargingRateUnit": "A",
                "startSchedule": START.isoformat(),
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16}],
            },
        }
        assert await server.push_profile(0, default) == "Accepted"
        too_high = {**default, "chargingProfileId": 4, "stackLevel": 99}
        assert await server.push_profile(0, too_high) == "Rejected"
        no_tx = {**default, "chargingProfileId": 5, "chargingProfilePurpose": "TxProfile"}
        assert await server.push_profile(1, no_tx) == "Rejected"
        assert (cp.stats.profiles_received, cp.stats.profiles_accepted) == (3, 1)
        composite = await server.call(
            call.GetCompositeSchedule(connector_id=2, duration=300, charging_rate_unit="W")
        )
        assert composite.charging_schedule["charging_schedule_period"][0]["limit"] == 16 * 230 * 3
        assert (
            await server.call(call.GetCompositeSchedule(connector_id=7, duration=300))
        ).status == "Rejected"
        assert (await server.call(call.ClearChargingProfile(id=3))).status == "Accepted"
        assert (await server.call(call.ClearChargingProfile(id=3))).status == "Unknown"

        unknown = await server.call(call.DataTransfer(vendor_id="acme", message_id="x", data="1"))
        assert unknown.status == "UnknownVendorId"
        echoed = await server.call(call.DataTransfer(vendor_id="smartcharge", data="ping"))
        assert (echoed.status, echoed.data) == ("Accepted", "ping")
        assert (await server.call(call.ClearCache())).status == "Accepted"

        assert (await server.call(call.GetLocalListVersion())).list_version == 0
        full = [
            {"idTag": "A", "idTagInfo": {"status": "Accepted"}},
            {"idTag": "B", "idTagInfo": {"status": "Blocked"}},
        ]
        sent = await server.call(
            call.SendLocalList(list_version=2, update_type="Full", local_authorization_list=full)
        )
        assert sent.status == "Accepted"
        stale = await server.call(call.SendLocalList(list_version=1, update_type="Differential"))
        assert stale.status == "VersionMismatch"
        assert (await server.call(call.GetLocalListVersion())).list_version == 2
        assert cp.local_list.tags == {"A": "Accepted", "B": "Blocked"}

        expiry = (START + timedelta(hours=2)).isoformat()
        reserve = call.ReserveNow(connector_id=2, expiry_date=expiry, id_tag="A", reservation_id=11)
        assert (await server.call(reserve)).status == "Accepted"
        await eventually(lambda: "Reserved" in statuses(central, 2))
        again = call.ReserveNow(connector_id=2, expiry_date=expiry, id_tag="B", reservation_id=12)
        assert (await server.call(again)).status == "Occupied"
        assert (await server.call(call.CancelReservation(reservation_id=11))).status == "Accepted"
        assert (await server.call(call.CancelReservation(reservation_id=11))).status == "Rejected"
        await eventually(lambda: statuses(central, 2)[-1] == "Available")

        assert (
            await server.call(call.ChangeAvailability(connector_id=2, type="Inoperative"))
        ).status == "Accepted"
        await eventually(lambda: statuses(central, 2)[-1] == "Unavailable")
        assert (
            await server.call(call.ChangeAvailability(connector_id=2, type="Operative"))
        ).status == "Accepted"
        await eventually(lambda: statuses(central, 2)[-1] == "Available")
        assert (await server.call(call.UnlockConnector(connector_id=1))).status == "Unlocked"
        assert (await server.call(call.UnlockConnector(connector_id=9))).status == "NotSupported"
    finally:
        await cp.stop()


async def test_triggers_diagnostics_and_firmware_follow_up(central: CentralSystem) -> None:
    cp = charge_point(central, [], speed=600)
    server = await connected(central, cp)
    try:
        beats = len(central.of("Heartbeat"))
        assert (await server.call(call.TriggerMessage(requested_message="Heartbeat"))).status == "Accepted"
        await eventually(lambda: len(central.of("Heartbeat")) > beats)
        n = len(central.of("StatusNotification"))
        trigger = call.TriggerMessage(requested_message="StatusNotification", connector_id=2)
        assert (await server.call(trigger)).status == "Accepted"
        await eventually(lambda: len(central.of("StatusNotification")) == n + 1)
        assert central.of("StatusNotification")[-1]["connector_id"] == 2
        bad = call.TriggerMessage(requested_message="StatusNotification", connector_id=5)
        assert (await server.call(bad)).status == "Rejected"

        diagnostics = await server.call(call.GetDiagnostics(location="ftp://example.invalid/"))
        assert diagnostics.file_name.startswith("diagnostics-CP-OPS-")
        await eventually(
            lambda: (
                [d["status"] for d in central.of("DiagnosticsStatusNotification")]
                == ["Uploading", "Uploaded"]
            )
        )

        retrieve = (cp.clock.now() + timedelta(minutes=1)).isoformat()
        await server.call(
            call.UpdateFirmware(location="https://example.invalid/fw.bin", retrieve_date=retrieve)
        )
        await eventually(lambda: len(central.of("FirmwareStatusNotification")) == 4)
        assert [f["status"] for f in central.of("FirmwareStatusNotification")] == [
            "Downloading",
            "Downloaded",
            "Installing",
            "Installed",
        ]
    finally:
        await cp.stop()


async def test_remote_start_remote_stop_and_scheduled_unavailability(central: CentralSystem) -> None:
    cp = charge_point(central, [visit(1, 120)], speed=120)  # arrives within ConnectionTimeOut (120 s)
    server = await connected(central, cp)
    try:
        eight_amps = {
            "chargingProfileId": 20,
            "stackLevel": 0,
            "chargingProfilePurpose": "TxProfile",
            "chargingProfileKind": "Relative",
            "chargingSchedule": {
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 8}],
            },
        }
        default = {**eight_amps, "chargingProfilePurpose": "TxDefaultProfile"}
        wrong = call.RemoteStartTransaction(id_tag="REMOTE", connector_id=1, charging_profile=default)
        assert (await server.call(wrong)).status == "Rejected"
        start = call.RemoteStartTransaction(id_tag="REMOTE", connector_id=1, charging_profile=eight_amps)
        assert (await server.call(start)).status == "Accepted"
        await eventually(lambda: "Preparing" in statuses(central, 1))
        await eventually(lambda: bool(central.of("StartTransaction")))
        [started] = central.of("StartTransaction")
        assert started["id_tag"] == "REMOTE"
        assert central.of("Authorize") == []  # AuthorizeRemoteTxRequests is false
        await eventually(
            lambda: cp.connectors[1].tx is not None and cp.connectors[1].tx.server_id is not None
        )
        assert cp.connectors[1].current_a == pytest.approx(8.0)  # the TxProfile that came with the request

        busy = call.RemoteStartTransaction(id_tag="OTHER", connector_id=1)
        assert (await server.call(busy)).status == "Rejected"
        assert (
            await server.call(call.ChangeAvailability(connector_id=1, type="Inoperative"))
        ).status == "Scheduled"
        assert (await server.call(call.RemoteStopTransaction(transaction_id=999))).status == "Rejected"
        stop = call.RemoteStopTransaction(transaction_id=started["assigned"])
        assert (await server.call(stop)).status == "Accepted"
        await eventually(lambda: bool(central.of("StopTransaction")))
        [stopped] = central.of("StopTransaction")
        assert stopped["reason"] == "Remote"
        assert stopped["transaction_id"] == started["assigned"]
        await eventually(lambda: statuses(central, 1)[-1] == "Finishing")
        assert cp.connectors[1].operative is False  # the scheduled change applied once the transaction ended
    finally:
        await cp.stop()
    assert statuses(central, 1)[-1] in ("Finishing", "Unavailable")


async def test_reset_stops_the_transaction_and_boots_again(central: CentralSystem) -> None:
    cp = charge_point(central, [visit(1, 120)], speed=120)
    server = await connected(central, cp)
    try:
        await eventually(lambda: bool(central.of("StartTransaction")))
        await eventually(
            lambda: cp.connectors[1].tx is not None and cp.connectors[1].tx.server_id is not None
        )
        assert (await server.call(call.Reset(type="Soft"))).status == "Accepted"
        await eventually(lambda: len(central.of("BootNotification")) == 2)
        [stopped] = central.of("StopTransaction")
        assert stopped["reason"] == "SoftReset"
        assert cp.stats.connects == 2
    finally:
        await cp.stop()


async def test_boot_pending_is_retried_after_the_interval() -> None:
    central = CentralSystem(heartbeat_s=120, boot_status="Pending")
    await central.start()
    cp = charge_point(central, [], speed=600)
    try:
        cp.start()
        await eventually(lambda: len(central.of("BootNotification")) == 1)
        assert cp.online is False
        central.boot_status = "Accepted"
        await eventually(lambda: cp.online)
        assert len(central.of("BootNotification")) == 2
        actions = [r.action for r in central.received]
        assert actions[:2] == ["BootNotification", "BootNotification"]  # nothing else while pending
    finally:
        await cp.stop()
        await central.stop()


async def test_http_basic_auth_security_profile_1() -> None:
    central = CentralSystem(password="s3cret")
    await central.start()
    wrong = charge_point(central, [], speed=600, password="nope")
    right = charge_point(central, [], speed=600, password="s3cret")
    try:
        wrong.start()
        right.start()
        await eventually(lambda: right.online)
        await eventually(
            lambda: wrong.stats.connects == 0 and wrong.clock.now() > START + timedelta(minutes=2)
        )
        assert wrong.online is False
        assert right.stats.connects == 1
    finally:
        await wrong.stop()
        await right.stop()
        await central.stop()


async def test_a_failing_transaction_message_is_retried_then_dropped(central: CentralSystem) -> None:
    central.failing.add("MeterValues")
    cp = charge_point(central, [visit(1, 10)], speed=600)
    cp.config.set("TransactionMessageAttempts", 3)
    cp.config.set("TransactionMessageRetryInterval", 5)
    cp.start()
    try:
        await eventually(lambda: bool(central.of("StopTransaction")), timeout_s=15)
    finally:
        await cp.stop()
    meter_values = central.of("MeterValues")
    stamps = [m["meter_value"][0]["timestamp"] for m in meter_values]
    assert len(stamps) == 3 * len(set(stamps))  # every one tried three times, in order
    assert stamps == sorted(stamps)
    assert cp.stats.call_errors == len(stamps)
    assert cp.outbox.stats.dropped == len(set(stamps))
    assert central.of("StopTransaction")[0]["transaction_id"] == central.of("StartTransaction")[0]["assigned"]


async def test_an_invalid_tag_gets_no_transaction(central: CentralSystem) -> None:
    central.invalid_tags.add("TAG-LOCAL")
    cp = charge_point(central, [visit(5, 20)], speed=2400)  # connected well before the EV arrives
    stats = await cp.run(until=START + timedelta(minutes=30))
    assert central.of("Authorize") == [{"id_tag": "TAG-LOCAL"}]
    assert central.of("StartTransaction") == []
    assert statuses(central, 1) == ["Available", "Preparing", "Available"]
    [session] = stats.sessions
    assert session.authorized is False
    assert session.delivered_kwh == 0


async def test_a_start_answered_blocked_is_stopped_deauthorized(central: CentralSystem) -> None:
    central.blocked_at_start.add("TAG-LOCAL")
    cp = charge_point(central, [visit(1, 60)], speed=1200)
    cp.start()
    try:
        await eventually(lambda: bool(central.of("StopTransaction")))
    finally:
        await cp.stop()
    [start] = central.of("StartTransaction")
    [stop] = central.of("StopTransaction")
    assert stop["reason"] == "DeAuthorized"
    assert stop["transaction_id"] == start["assigned"]
    assert (instant(stop["timestamp"]) - instant(start["timestamp"])).total_seconds() < 120
    assert cp.stats.sessions[0].stop_reason == "DeAuthorized"


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


async def test_a_central_system_on_another_clock_is_reported(
    central: CentralSystem, caplog: pytest.LogCaptureFixture
) -> None:
    cp = charge_point(central, [], speed=600)  # simulated 2024, the central system answers with today
    await connected(central, cp)
    await cp.stop()
    assert cp.stats.clock_skew_s is not None
    assert cp.stats.clock_skew_s > 300 * 86400
    assert "SMARTCHARGE_CLOCK_SPEED" in caplog.text

    caplog.clear()
    central.clock = ScaledClock(speed=600, start=START)
    shared = charge_point(central, [], speed=600)
    await connected(central, shared)
    await shared.stop()
    assert shared.stats.clock_skew_s is not None
    assert abs(shared.stats.clock_skew_s) < 120
    assert "SMARTCHARGE_CLOCK_SPEED" not in caplog.text
