"""The security extension's central-system operations through the command API (issue 17):
InstallCertificate, GetInstalledCertificateIds, DeleteCertificate, ExtendedTriggerMessage, GetLog and
SignedUpdateFirmware sent over HTTP to the `ocpp` package's ChargePoint on a real WebSocket (202 + status,
the outcome recorded), and the charge point's answers the other way (SignCertificate after a trigger,
LogStatusNotification, SignedFirmwareStatusNotification, SecurityEventNotification), over TLS with a client
certificate. Bad requests get a 422 problem and are neither recorded nor sent. SQLite and PostgreSQL."""

import base64
import hashlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from ocpp.v16 import call

from ocpp_gateway import SECURITY_OPERATIONS
from tests.e2e.service import running_service
from tests.gateway.helpers import ClientChargePoint, connect_charge_point, eventually, url
from tests.security.pki import Ca, issue, make_ca, make_csr, make_pki

pytestmark = pytest.mark.anyio

RESPONSES: dict[str, Any] = {
    "InstallCertificate": {"status": "Accepted"},
    "DeleteCertificate": {"status": "NotFound"},
    "ExtendedTriggerMessage": {"status": "Accepted"},
    "GetLog": {"status": "Accepted", "filename": "security.log"},
    "SignedUpdateFirmware": {"status": "Accepted"},
    "CertificateSigned": {"status": "Accepted"},
}


def hash_data(ca: Ca) -> dict[str, str]:
    certificate = ca.certificate
    key = certificate.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return {
        "hashAlgorithm": "SHA256",
        "issuerNameHash": hashlib.sha256(certificate.issuer.public_bytes()).hexdigest(),
        "issuerKeyHash": hashlib.sha256(key).hexdigest(),
        "serialNumber": format(certificate.serial_number, "x"),
    }


async def send(api: httpx.AsyncClient, action: str, payload: dict[str, Any]) -> httpx.Response:
    body = {"action": action, "payload": payload}
    return await api.post("/charge-points/CP1/commands", params={"wait": "true"}, json=body)


async def test_each_operation_is_sent_answered_and_recorded(migrated_url: str, tmp_path: Path) -> None:
    """Over TLS with a client certificate (security profile 3, which the charge point must use)."""
    pki = make_pki(tmp_path)
    ca = pki.ca
    async with running_service(migrated_url, **pki.settings) as service:
        api, gateway = service.api, service.app.state.gateway
        created = await api.post("/charge-points", json={"id": "CP1", "security_profile": 3})
        assert created.status_code == 201
        wss = url(gateway, "CP1", scheme="wss")
        async with connect_charge_point(gateway, "CP1", uri=wss, ssl=pki.client(issue(ca, "CP1"))) as cp:
            cp.responses |= RESPONSES
            cp.responses["GetInstalledCertificateIds"] = {
                "status": "Accepted",
                "certificateHashData": [hash_data(ca)],
            }
            requests: list[tuple[str, dict[str, Any], str]] = [
                (
                    "InstallCertificate",
                    {"certificateType": "CentralSystemRootCertificate", "certificate": ca.pem},
                    "accepted",
                ),
                (
                    "GetInstalledCertificateIds",
                    {"certificateType": "CentralSystemRootCertificate"},
                    "accepted",
                ),
                ("DeleteCertificate", {"certificateHashData": hash_data(ca)}, "rejected"),
                ("ExtendedTriggerMessage", {"requestedMessage": "SignChargePointCertificate"}, "accepted"),
                (
                    "GetLog",
                    {
                        "logType": "SecurityLog",
                        "requestId": 7,
                        "log": {
                            "remoteLocation": "https://logs.example.test/upload",
                            "oldestTimestamp": "2026-12-01T00:00:00Z",
                            "latestTimestamp": "2026-12-02T00:00:00Z",
                        },
                    },
                    "accepted",
                ),
                (
                    "SignedUpdateFirmware",
                    {
                        "requestId": 8,
                        "retries": 2,
                        "firmware": {
                            "location": "https://firmware.example.test/cp-2.0.bin",
                            "retrieveDateTime": "2026-12-08T02:00:00Z",
                            "installDateTime": "2026-12-08T03:00:00Z",
                            "signingCertificate": ca.pem,
                            "signature": base64.b64encode(b"\x30\x45signature").decode(),
                        },
                    },
                    "accepted",
                ),
            ]
            assert {action for action, _, _ in requests} | {"CertificateSigned"} == SECURITY_OPERATIONS
            for action, payload, status in requests:
                answered = await send(api, action, payload)
                assert answered.status_code == 202, answered.text
                command = answered.json()
                assert (command["action"], command["status"]) == (action, status)
                assert command["payload"] == payload
                assert command["response"] == cp.responses[action]
                assert answered.headers["Location"] == f"/api/v1/commands/{command['id']}"
                assert await cp.wait_for_call(action) == payload

            # the charge point's side: what the trigger, the log upload and the firmware update lead to
            await charge_point_follows_up(cp)

        certificate = (await api.get("/certificates", params={"charge_point_id": "CP1"})).json()["items"]
        assert len(certificate) == 1
        statuses = (await api.get("/operation-status", params={"charge_point_id": "CP1"})).json()["items"]
        assert [(s["operation"], s["status"], s["request_id"]) for s in statuses] == [
            ("SignedUpdateFirmware", "Installed", 8),
            ("SignedUpdateFirmware", "SignatureVerified", 8),
            ("GetLog", "Uploaded", 7),
        ]
        events = (await api.get("/security-events", params={"charge_point_id": "CP1"})).json()["items"]
        assert [(e["type"], e["tech_info"], e["critical"]) for e in events] == [
            ("ResetOrReboot", "by CSMS", True)
        ]
        commands = (await api.get("/commands", params={"charge_point_id": "CP1"})).json()
        assert commands["total"] == 7  # the six above and the CertificateSigned


async def charge_point_follows_up(cp: ClientChargePoint) -> None:
    now = datetime.now(UTC).isoformat()
    await cp.call(call.SecurityEventNotification(type="ResetOrReboot", timestamp=now, tech_info="by CSMS"))
    assert (await cp.call(call.SignCertificate(csr=make_csr("CP1", None)))).status == "Accepted"
    chain = (await cp.wait_for_call("CertificateSigned"))["certificateChain"]
    assert chain.startswith("-----BEGIN CERTIFICATE-----")
    await cp.call(call.LogStatusNotification(status="Uploaded", request_id=7))
    for status in ("SignatureVerified", "Installed"):
        await cp.call(call.SignedFirmwareStatusNotification(status=status, request_id=8))

    async def answered_certificate_signed() -> bool:
        return any(action == "CertificateSigned" for action, _ in cp.received)

    await eventually(answered_certificate_signed)


async def test_invalid_requests_are_refused_and_not_sent(migrated_url: str) -> None:
    async with running_service(migrated_url) as service:
        api = service.api
        assert (await api.post("/charge-points", json={"id": "CP1"})).status_code == 201
        firmware = {
            "location": "https://firmware.example.test/cp.bin",
            "retrieveDateTime": "2026-12-08T02:00:00Z",
            "signingCertificate": make_ca().pem,
            "signature": "c2lnbmF0dXJl",
        }
        log = {"remoteLocation": "https://logs.example.test/upload"}
        bad: list[tuple[str, dict[str, Any], str]] = [
            (
                "InstallCertificate",
                {"certificateType": "CentralSystemRootCertificate", "certificate": "not PEM"},
                "certificate",
            ),
            (
                "InstallCertificate",
                {"certificateType": "SomeCertificate", "certificate": make_ca().pem},
                "certificateType",
            ),
            ("GetInstalledCertificateIds", {}, "certificateType"),
            (
                "DeleteCertificate",
                {
                    "certificateHashData": {
                        "hashAlgorithm": "SHA256",
                        "issuerNameHash": "zz",
                        "issuerKeyHash": "00",
                        "serialNumber": "01",
                    }
                },
                "issuerNameHash",
            ),
            ("ExtendedTriggerMessage", {"requestedMessage": "Reset"}, "requestedMessage"),
            (
                "GetLog",
                {"logType": "SecurityLog", "requestId": 1, "log": {"remoteLocation": "logs/upload"}},
                "remoteLocation",
            ),
            (
                "GetLog",
                {
                    "logType": "SecurityLog",
                    "requestId": 1,
                    "log": log
                    | {"oldestTimestamp": "2026-12-02T00:00:00Z", "latestTimestamp": "2026-12-01T00:00:00Z"},
                },
                "latestTimestamp",
            ),
            (
                "SignedUpdateFirmware",
                {"requestId": 2, "firmware": firmware | {"signature": "not base64!"}},
                "signature",
            ),
            (
                "SignedUpdateFirmware",
                {"requestId": 2, "firmware": firmware | {"installDateTime": "2026-12-08T01:00:00Z"}},
                "installDateTime",
            ),
            (
                "CertificateSigned",
                {"certificateChain": "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"},
                "certificateChain",
            ),
        ]
        async with connect_charge_point(service.app.state.gateway, "CP1") as cp:
            for action, payload, field in bad:
                refused = await send(api, action, payload)
                assert refused.status_code == 422, (action, refused.text)
                assert refused.headers["content-type"].startswith("application/problem+json")
                assert field in refused.json()["detail"], (action, refused.json()["detail"])
            assert cp.received == []
        assert (await api.get("/commands")).json()["total"] == 0
