"""Interoperability with an independent strict OCPP 1.6J client: the npm package `ocpp-rpc` in strict mode
(`charge_point.js`), which validates every CALL and CALLRESULT in both directions against the OCPP 1.6 JSON
schemas. The whole service runs on loopback; the Node charge point sends each of the 10 charge-point
operations, and each of the 19 central-system operations is sent to it through the HTTP API. Every outcome
is checked through the API, and the strict client must report no schema violation.
"""

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from app.db.migrate import upgrade
from ocpp_gateway.commands import OPERATIONS
from tests.e2e.service import running_service
from tests.gateway.helpers import eventually
from tests.interop.node_charge_point import CallFailed, NodeChargePoint, node_charge_point, node_or_skip

pytestmark = pytest.mark.anyio

CP_ID = "INTEROP-1"
PASSWORD = "interop-secret-password"
CHARGE_POINT_OPERATIONS = {
    "Authorize",
    "BootNotification",
    "DataTransfer",
    "DiagnosticsStatusNotification",
    "FirmwareStatusNotification",
    "Heartbeat",
    "MeterValues",
    "StartTransaction",
    "StatusNotification",
    "StopTransaction",
}


@pytest.fixture(autouse=True)
def node() -> str:
    """Skipped before the service starts when `node` is missing."""
    return node_or_skip()


def stamp(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def parse(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    assert parsed.tzinfo is not None, value
    return parsed


class Exchange:
    """Both sides of the test: the strict charge point and the API, with what each side has sent."""

    def __init__(self, cp: NodeChargePoint, api: httpx.AsyncClient) -> None:
        self.cp = cp
        self.api = api
        self.sent_by_charge_point: set[str] = set()
        self.sent_by_api: set[str] = set()

    async def call(self, action: str, params: dict[str, Any]) -> dict[str, Any]:
        self.sent_by_charge_point.add(action)
        return await self.cp.call(action, params)

    async def command(
        self, action: str, payload: dict[str, Any], outcome: str = "accepted"
    ) -> dict[str, Any]:
        """Send through the API and wait for the outcome; the charge point received the payload as stored
        and the command's response is the answer it gave."""
        self.sent_by_api.add(action)
        count = sum(1 for e in self.cp.events if e["event"] == "received" and e["method"] == action)
        sent = await self.api.post(
            f"/charge-points/{CP_ID}/commands",
            params={"wait": "true"},
            json={"action": action, "payload": payload},
        )
        assert sent.status_code == 202, sent.text
        command = (await self.api.get(sent.headers["location"].removeprefix("/api/v1"))).json()
        received = await self.cp.received(action, count + 1)
        assert received["params"] == command["payload"]
        assert command["status"] == outcome, command
        assert command["response"] == received["result"]
        assert command["error_code"] is None
        assert command["sent_at"] is not None
        assert command["completed_at"] is not None
        result: dict[str, Any] = command
        return result

    async def charge_point(self) -> dict[str, Any]:
        response = await self.api.get(f"/charge-points/{CP_ID}")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def configuration(self) -> dict[str, str | None]:
        response = await self.api.get(f"/charge-points/{CP_ID}/configuration")
        return {item["key"]: item["value"] for item in response.json()["items"]}


async def boot_and_report(ex: Exchange, now: datetime) -> None:
    boot = await ex.call(
        "BootNotification",
        {
            "chargePointVendor": "ocpp-rpc",
            "chargePointModel": "Strict-1.6",
            "chargePointSerialNumber": "SN-0001",
            "firmwareVersion": "1.0.0",
            "meterType": "DC-Meter",
        },
    )
    assert boot["status"] == "Accepted"
    assert boot["interval"] > 0
    assert abs(parse(boot["currentTime"]) - now) < timedelta(minutes=5)

    # after an accepted boot the gateway reads the configuration (GetConfiguration, all keys)
    read = await ex.cp.received("GetConfiguration")
    assert read["params"] == {}
    configuration = await eventually(ex.configuration, timeout_s=30)
    assert configuration["ChargingScheduleMaxPeriods"] == "24"

    heartbeat = await ex.call("Heartbeat", {})
    assert abs(parse(heartbeat["currentTime"]) - now) < timedelta(minutes=5)
    status = {"connectorId": 1, "errorCode": "NoError", "status": "Available", "timestamp": stamp(now)}
    assert await ex.call("StatusNotification", status) == {}
    transfer = await ex.call(
        "DataTransfer", {"vendorId": "com.example.interop", "messageId": "hi", "data": "1"}
    )
    assert transfer["status"] == "UnknownVendorId"  # smartcharge implements no vendor extension

    for diagnostics in ["Uploading", "Uploaded"]:
        assert await ex.call("DiagnosticsStatusNotification", {"status": diagnostics}) == {}
    for firmware in ["Downloading", "Downloaded", "Installing", "Installed"]:
        assert await ex.call("FirmwareStatusNotification", {"status": firmware}) == {}
    charge_point = await ex.charge_point()
    assert (charge_point["vendor"], charge_point["model"]) == ("ocpp-rpc", "Strict-1.6")
    assert (charge_point["serial_number"], charge_point["meter_type"]) == ("SN-0001", "DC-Meter")
    assert charge_point["connected"] is True
    assert (charge_point["diagnostics_status"], charge_point["firmware_status"]) == ("Uploaded", "Installed")
    assert [(c["connector_id"], c["status"]) for c in charge_point["connectors"]] == [(1, "Available")]


async def commands_without_a_transaction(ex: Exchange, now: datetime) -> None:
    """Configuration, availability, local list, firmware, diagnostics, reservation, reset, trigger, unlock."""
    await ex.command("ChangeConfiguration", {"key": "MeterValueSampleInterval", "value": "30"})
    read = await ex.command("GetConfiguration", {"key": ["MeterValueSampleInterval", "NoSuchKey"]})
    assert read["response"]["unknownKey"] == ["NoSuchKey"]
    assert (await ex.configuration())["MeterValueSampleInterval"] == "30"

    await ex.command("ChangeAvailability", {"connectorId": 1, "type": "Inoperative"})
    await ex.command("ChangeAvailability", {"connectorId": 0, "type": "Operative"})
    await ex.command("ClearCache", {})

    entries = [
        {"idTag": "TAG1", "idTagInfo": {"status": "Accepted", "expiryDate": stamp(now + timedelta(days=30))}},
        {"idTag": "TAG2", "idTagInfo": {"status": "Blocked", "parentIdTag": "TAG1"}},
    ]
    local_list = {"listVersion": 5, "updateType": "Full", "localAuthorizationList": entries}
    await ex.command("SendLocalList", local_list)
    version = await ex.command("GetLocalListVersion", {})
    assert version["response"] == {"listVersion": 5}
    assert (await ex.charge_point())["local_list_version"] == 5

    diagnostics = {
        "location": "ftp://diagnostics.example.com/upload/",
        "retries": 2,
        "retryInterval": 60,
        "startTime": stamp(now - timedelta(days=1)),
        "stopTime": stamp(now),
    }
    answered = await ex.command("GetDiagnostics", diagnostics)
    assert answered["response"] == {"fileName": f"diagnostics-{CP_ID}.tar.gz"}
    firmware = {
        "location": "https://firmware.example.com/strict-1.6/2.0.0.bin",
        "retrieveDate": stamp(now + timedelta(minutes=5)),
        "retries": 3,
        "retryInterval": 30,
    }
    assert (await ex.command("UpdateFirmware", firmware))["response"] == {}

    reserve = {"connectorId": 1, "expiryDate": stamp(now + timedelta(hours=1)), "idTag": "TAG1"}
    reserved = await ex.command("ReserveNow", reserve)
    reservation_id = reserved["payload"]["reservationId"]
    reservation = (await ex.api.get(f"/reservations/{reservation_id}")).json()
    assert reservation["status"] == "accepted"
    await ex.command("CancelReservation", {"reservationId": reservation_id})
    assert (await ex.api.get(f"/reservations/{reservation_id}")).json()["status"] == "cancelled"

    await ex.command("TriggerMessage", {"requestedMessage": "StatusNotification", "connectorId": 1})
    triggered = await ex.cp.wait_for(lambda e: e["event"] == "triggered")
    assert (triggered["method"], triggered.get("result")) == ("StatusNotification", {})
    await ex.command("TriggerMessage", {"requestedMessage": "Heartbeat"})
    heartbeat = await ex.cp.wait_for(lambda e: e["event"] == "triggered" and e["method"] == "Heartbeat")
    assert "currentTime" in heartbeat["result"]

    unlocked = await ex.command("UnlockConnector", {"connectorId": 1})
    assert unlocked["response"] == {"status": "Unlocked"}
    await ex.command("Reset", {"type": "Soft"})
    transfer = await ex.command(
        "DataTransfer", {"vendorId": "com.example.interop", "messageId": "ping", "data": "x"}
    )
    assert transfer["response"] == {"status": "Accepted", "data": "echo:x"}


def tx_profile(profile_id: int, start: datetime, transaction_id: int | None = None) -> dict[str, Any]:
    profile: dict[str, Any] = {
        "chargingProfileId": profile_id,
        "stackLevel": 2,
        "chargingProfilePurpose": "TxProfile",
        "chargingProfileKind": "Absolute",
        "validFrom": stamp(start),
        "validTo": stamp(start + timedelta(hours=2)),
        "chargingSchedule": {
            "duration": 3600,
            "startSchedule": stamp(start),
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [
                {"startPeriod": 0, "limit": 16.0},
                {"startPeriod": 1800, "limit": 8.5, "numberPhases": 1},
            ],
            "minChargingRate": 6.0,
        },
    }
    if transaction_id is not None:
        profile["transactionId"] = transaction_id
    return profile


async def a_remote_session(ex: Exchange, now: datetime) -> None:
    """RemoteStart, then the session it starts with its profile, composite schedule and RemoteStop."""
    remote_start = {"connectorId": 1, "idTag": "TAG1", "chargingProfile": tx_profile(7, now)}
    await ex.command("RemoteStartTransaction", remote_start)

    authorized = (await ex.call("Authorize", {"idTag": "TAG1"}))["idTagInfo"]
    assert authorized["status"] == "Accepted"
    assert parse(authorized["expiryDate"]) == now + timedelta(days=90)
    start = {"connectorId": 1, "idTag": "TAG1", "meterStart": 20_000, "timestamp": stamp(now)}
    started = await ex.call("StartTransaction", start)
    assert started["idTagInfo"]["status"] == "Accepted"
    transaction_id = started["transactionId"]
    charging = {"connectorId": 1, "errorCode": "NoError", "status": "Charging", "timestamp": stamp(now)}
    assert await ex.call("StatusNotification", charging) == {}

    profile = tx_profile(8, now, transaction_id)
    await ex.command("SetChargingProfile", {"connectorId": 1, "csChargingProfiles": profile})
    composite = await ex.command(
        "GetCompositeSchedule", {"connectorId": 1, "duration": 3600, "chargingRateUnit": "A"}
    )
    assert composite["response"]["status"] == "Accepted"
    assert composite["response"]["chargingSchedule"] == profile["chargingSchedule"]

    sampled = [
        {
            "value": "21500",
            "context": "Sample.Periodic",
            "format": "Raw",
            "measurand": "Energy.Active.Import.Register",
            "location": "Outlet",
            "unit": "Wh",
        },
        {"value": "10.9", "measurand": "Power.Active.Import", "unit": "kW"},
        {"value": "15.8", "measurand": "Current.Import", "phase": "L1", "unit": "A"},
        {"value": "231.2", "measurand": "Voltage", "phase": "L1-N", "unit": "V"},
        {"value": "54", "measurand": "SoC", "location": "EV", "unit": "Percent"},
    ]
    meter = {
        "connectorId": 1,
        "transactionId": transaction_id,
        "meterValue": [{"timestamp": stamp(now + timedelta(minutes=10)), "sampledValue": sampled}],
    }
    assert await ex.call("MeterValues", meter) == {}

    cleared = {"connectorId": 1, "chargingProfilePurpose": "TxProfile", "stackLevel": 2}
    assert (await ex.command("ClearChargingProfile", cleared))["response"] == {"status": "Accepted"}
    gone = await ex.command("ClearChargingProfile", {"id": 8}, outcome="rejected")
    assert gone["response"] == {"status": "Unknown"}
    await ex.command("RemoteStopTransaction", {"transactionId": transaction_id})
    end = {
        "timestamp": stamp(now + timedelta(minutes=20)),
        "sampledValue": [{"value": "23000", "unit": "Wh"}],
    }
    stop = {
        "transactionId": transaction_id,
        "idTag": "TAG1",
        "meterStop": 23_000,
        "timestamp": stamp(now + timedelta(minutes=20)),
        "reason": "Remote",
        "transactionData": [end],
    }
    stopped = await ex.call("StopTransaction", stop)
    assert stopped["idTagInfo"]["status"] == "Accepted"

    detail = (await ex.api.get(f"/transactions/{transaction_id}")).json()
    assert detail["active"] is False
    assert (detail["meter_start_wh"], detail["meter_stop_wh"], detail["energy_wh"]) == (20_000, 23_000, 3_000)
    assert detail["stop_reason"] == "Remote"
    powers = [
        v["value_normalised"] for v in detail["meter_values"] if v["measurand"] == "Power.Active.Import"
    ]
    assert powers == [10_900]


async def test_every_operation_both_ways_with_a_strict_client(database_url: str) -> None:
    upgrade(database_url)
    async with running_service(database_url) as service:
        api = service.api
        registered = await api.post("/charge-points", json={"id": CP_ID, "password": PASSWORD})
        assert registered.status_code == 201, registered.text
        now = datetime.now(UTC).replace(microsecond=0)
        tag1 = {"id_tag": "TAG1", "expiry_date": stamp(now + timedelta(days=90))}
        for tag in [tag1, {"id_tag": "TAG2"}]:
            assert (await api.post("/id-tags", json=tag)).status_code == 201
        async with node_charge_point(service.ocpp_url, CP_ID, PASSWORD) as cp:
            ex = Exchange(cp, api)
            await boot_and_report(ex, now)
            await commands_without_a_transaction(ex, now)
            await a_remote_session(ex, now)

            assert ex.sent_by_charge_point == CHARGE_POINT_OPERATIONS
            assert ex.sent_by_api == OPERATIONS
            commands = (await api.get("/commands", params={"charge_point_id": CP_ID, "limit": 100})).json()
            assert {c["status"] for c in commands["items"]} == {"accepted", "rejected"}
            assert [c["action"] for c in commands["items"] if c["status"] == "rejected"] == [
                "ClearChargingProfile"
            ]
            assert cp.violations == []
        # leaving the block: stdin closed, the client closed its connection, exited 0 with no violation


async def test_the_strict_client_reports_a_schema_violation(database_url: str) -> None:
    """The check above can fail: a payload against the schema is reported, and the call is not sent."""
    upgrade(database_url)
    async with running_service(database_url) as service:
        registered = await service.api.post("/charge-points", json={"id": CP_ID, "password": PASSWORD})
        assert registered.status_code == 201, registered.text

        async def send_an_invalid_status() -> None:
            async with node_charge_point(service.ocpp_url, CP_ID, PASSWORD, fail_fast=False) as cp:
                dozing = {"connectorId": 1, "errorCode": "NoError", "status": "Dozing"}
                with pytest.raises(CallFailed) as failed:
                    await cp.call("StatusNotification", dozing)
                assert failed.value.code == "FormatViolation"  # ocpp-rpc's own check: the call was not sent
                [violation] = cp.violations
                assert (violation["kind"], violation["method"]) == ("schema", "StatusNotification")
                assert "allowed values" in violation["error"]

        # leaving `node_charge_point` fails on the violation reported (and the client's exit status 1)
        with pytest.raises(AssertionError, match="OCPP 1.6 VIOLATION"):
            await send_an_invalid_status()


async def test_the_smart_charging_loop_with_a_strict_client(database_url: str) -> None:
    """What the scheduler sends on its own (a TxDefaultProfile at boot, a TxProfile computed for the session,
    GetCompositeSchedule to read it back) passes the strict client's schema checks and is accepted."""
    upgrade(database_url)
    async with running_service(database_url) as service:
        api = service.api
        site = await api.post(
            "/sites", json={"name": "depot", "grid_connection_limit_kw": 50, "fallback_limit_kw": 11}
        )
        assert site.status_code == 201, site.text
        site_id = site.json()["id"]
        now = datetime.now(UTC).replace(microsecond=0)
        interval = {
            "start": stamp(now - timedelta(hours=1)),
            "end": stamp(now + timedelta(days=1)),
            "limit_kw": 7.3,
        }
        forecast = await api.post(
            f"/sites/{site_id}/forecasts", json={"forecast_id": "dso-1", "intervals": [interval]}
        )
        assert forecast.status_code == 201, forecast.text
        assert (await api.post("/charge-points", json={"id": CP_ID, "password": PASSWORD})).status_code == 201
        assert (await api.put(f"/sites/{site_id}/charge-points/{CP_ID}", json={})).status_code == 200
        assert (await api.post("/id-tags", json={"id_tag": "TAG1"})).status_code == 201
        async with node_charge_point(service.ocpp_url, CP_ID, PASSWORD) as cp:
            boot = {"chargePointVendor": "ocpp-rpc", "chargePointModel": "Strict-1.6"}
            assert (await cp.call("BootNotification", boot))["status"] == "Accepted"
            default = await cp.wait_for(
                lambda e: (
                    e["event"] == "received"
                    and e["method"] == "SetChargingProfile"
                    and e["params"]["csChargingProfiles"]["chargingProfilePurpose"] == "TxDefaultProfile"
                )
            )
            assert default["result"] == {"status": "Accepted"}
            preparing = {"connectorId": 1, "errorCode": "NoError", "status": "Preparing"}
            assert await cp.call("StatusNotification", preparing) == {}
            start = {"connectorId": 1, "idTag": "TAG1", "meterStart": 0, "timestamp": stamp(now)}
            transaction_id = (await cp.call("StartTransaction", start))["transactionId"]
            sent = await cp.wait_for(
                lambda e: (
                    e["event"] == "received"
                    and e["method"] == "SetChargingProfile"
                    and e["params"]["csChargingProfiles"].get("transactionId") == transaction_id
                )
            )
            limits = [
                p["limit"]
                for p in sent["params"]["csChargingProfiles"]["chargingSchedule"]["chargingSchedulePeriod"]
            ]
            assert limits
            assert all(limit > 0 for limit in limits)

            async def verified() -> dict[str, Any] | None:
                profile: dict[str, Any] = (await api.get(f"/transactions/{transaction_id}/schedule")).json()[
                    "profile"
                ]
                return profile if profile and profile.get("verified") is not None else None

            profile = await eventually(verified, timeout_s=30)
            assert (profile["status"], profile["verified"]) == ("accepted", True)
            read_back = await cp.received("GetCompositeSchedule")
            assert read_back["params"]["connectorId"] == 1
            assert read_back["result"]["status"] == "Accepted"
            assert cp.violations == []
