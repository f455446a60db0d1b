"""SecurityEventNotification, LogStatusNotification and SignedFirmwareStatusNotification (issue 17): sent by
the `ocpp` package's ChargePoint over a real WebSocket, answered, stored, and listed over HTTP with filters.
SQLite and PostgreSQL."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from ocpp.exceptions import TypeConstraintViolationError
from ocpp.v16 import call

from tests.e2e.service import running_service
from tests.gateway.helpers import connect_charge_point

pytestmark = pytest.mark.anyio

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def stamp(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


async def test_security_events_are_stored_flagged_and_filterable(migrated_url: str) -> None:
    async with running_service(migrated_url) as service:
        api, gateway = service.api, service.app.state.gateway
        for cp_id in ("CP1", "CP2"):
            assert (await api.post("/charge-points", json={"id": cp_id})).status_code == 201
        sent = [
            ("CP1", "TamperDetectionActivated", T0, "lid opened"),
            ("CP1", "InvalidMessages", T0 + timedelta(hours=1), None),
            ("CP1", "AcmeDoorSensor", T0 + timedelta(hours=2), "vendor type"),
            ("CP2", "StartupOfTheDevice", T0 + timedelta(hours=3), None),
        ]
        for cp_id in ("CP1", "CP2"):
            async with connect_charge_point(gateway, cp_id) as cp:
                for _, event_type, at, info in [row for row in sent if row[0] == cp_id]:
                    answer = await cp.call(
                        call.SecurityEventNotification(type=event_type, timestamp=stamp(at), tech_info=info)
                    )
                    assert answer is not None  # a CALLRESULT, not a CALLERROR
                with pytest.raises(TypeConstraintViolationError):
                    await cp.call(
                        call.SecurityEventNotification(
                            type="InvalidMessages", timestamp="yesterday", tech_info=None
                        ),
                        skip_schema_validation=True,
                        suppress=False,
                    )

        async def listed(**params: Any) -> list[tuple[str, str, bool]]:
            response = await api.get("/security-events", params=params)
            assert response.status_code == 200, response.text
            return [(e["charge_point_id"], e["type"], e["critical"]) for e in response.json()["items"]]

        assert await listed() == [
            ("CP2", "StartupOfTheDevice", True),
            ("CP1", "AcmeDoorSensor", False),
            ("CP1", "InvalidMessages", False),
            ("CP1", "TamperDetectionActivated", True),
        ]
        assert await listed(charge_point_id="CP1", critical="true") == [
            ("CP1", "TamperDetectionActivated", True)
        ]
        assert await listed(type="InvalidMessages") == [("CP1", "InvalidMessages", False)]
        window = {"from": stamp(T0 + timedelta(minutes=30)), "to": stamp(T0 + timedelta(hours=3))}
        assert [t for _, t, _ in await listed(**window)] == ["AcmeDoorSensor", "InvalidMessages"]
        first = (await api.get("/security-events", params={"type": "TamperDetectionActivated"})).json()
        assert first["items"][0]["tech_info"] == "lid opened"
        assert first["items"][0]["timestamp"].startswith("2026-12-01T08:00:00")
        for role in ("analyst", "grid_operator"):
            token = (await api.post("/api-keys", json={"role": role, "name": role})).json()["token"]
            for path in ("/security-events", "/operation-status", "/certificates", "/installed-certificates"):
                refused = await api.get(path, headers={"Authorization": f"Bearer {token}"})
                assert refused.status_code == 403, (role, path)
        backwards = await api.get("/security-events", params={"from": stamp(T0), "to": stamp(T0)})
        assert backwards.status_code == 422
        assert backwards.headers["content-type"].startswith("application/problem+json")


async def test_log_and_signed_firmware_status_are_stored(migrated_url: str) -> None:
    async with running_service(migrated_url) as service:
        api = service.api
        assert (await api.post("/charge-points", json={"id": "CP1"})).status_code == 201
        async with connect_charge_point(service.app.state.gateway, "CP1") as cp:
            for status in ("Uploading", "Uploaded"):
                assert await cp.call(call.LogStatusNotification(status=status, request_id=7)) is not None
            for status in ("Downloading", "SignatureVerified", "Installed"):
                sent = call.SignedFirmwareStatusNotification(status=status, request_id=8)
                assert await cp.call(sent) is not None

        async def listed(**params: Any) -> list[tuple[str, str, int]]:
            response = await api.get("/operation-status", params=params)
            assert response.status_code == 200, response.text
            return [(s["operation"], s["status"], s["request_id"]) for s in response.json()["items"]]

        assert await listed(operation="GetLog") == [("GetLog", "Uploaded", 7), ("GetLog", "Uploading", 7)]
        firmware = await listed(charge_point_id="CP1", operation="SignedUpdateFirmware")
        assert [status for _, status, _ in firmware] == ["Installed", "SignatureVerified", "Downloading"]
        assert len(await listed(request_id=8)) == 3
        assert (await api.get("/operation-status", params={"operation": "Reset"})).status_code == 422
