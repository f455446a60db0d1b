"""Security profiles (issue 17): TLS with client certificates (profile 3) and, per charge point, the weakest
profile it may connect with. The `ocpp` package's ChargePoint over the `websockets` client connects to the
whole service on loopback, with certificates the tests make (`pki.py`). A bad certificate is refused before
the upgrade: expired or untrusted in the TLS handshake, naming another charge point with 403, missing (for a
charge point that must use profile 3) with 401. SQLite and PostgreSQL."""

import logging
import ssl
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from ocpp.v16 import call
from pydantic import ValidationError
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidMessage, InvalidStatus

from app.settings import Settings
from tests.e2e.service import Service, running_service
from tests.gateway.helpers import basic_auth, connect_charge_point, eventually, url
from tests.security.pki import issue, make_ca, make_pki, name

pytestmark = pytest.mark.anyio

BOOT = call.BootNotification(charge_point_vendor="Acme", charge_point_model="M1")
PASSWORD = "a-long-password-0123"


def wss(service: Service, cp_id: str) -> str:
    return url(service.app.state.gateway, cp_id, scheme="wss")


async def register(api: httpx.AsyncClient, cp_id: str, **fields: object) -> dict[str, object]:
    created = await api.post("/charge-points", json={"id": cp_id, **fields})
    assert created.status_code == 201, created.text
    body: dict[str, object] = created.json()
    return body


async def refused_status(address: str, context: ssl.SSLContext | None, password: str | None = None) -> int:
    headers = basic_auth(address.rsplit("/", 1)[1], password) if password else None
    with pytest.raises(InvalidStatus) as refused:
        async with connect(address, subprotocols=["ocpp1.6"], ssl=context, additional_headers=headers):  # type: ignore[list-item]
            pass
    return refused.value.response.status_code


async def admitted(service: Service, cp_id: str, context: ssl.SSLContext | None, **connect: object) -> str:
    """Connect as `cp_id`, boot, and say what the central system answered."""
    address = wss(service, cp_id) if context is not None else service.ws(cp_id)
    async with connect_charge_point(
        service.app.state.gateway, cp_id, uri=address, ssl=context, **connect
    ) as cp:
        status: str = (await cp.call(BOOT)).status
        return status


async def test_a_client_certificate_admits_its_charge_point_and_the_extension_works_both_ways(
    migrated_url: str, tmp_path: Path
) -> None:
    pki = make_pki(tmp_path)
    async with running_service(migrated_url, **pki.settings) as service:
        api, gateway = service.api, service.app.state.gateway
        created = await register(api, "CP1", security_profile=3)
        assert (created["security_profile"], created["has_password"]) == (3, False)
        context = pki.client(issue(pki.ca, "CP1"))
        async with connect_charge_point(gateway, "CP1", uri=wss(service, "CP1"), ssl=context) as cp:
            assert (await cp.call(BOOT)).status == "Accepted"
            # the charge point's side of the extension
            event = call.SecurityEventNotification(
                type="StartupOfTheDevice", timestamp=datetime.now(UTC).isoformat(), tech_info=None
            )
            await cp.call(event)
            # the central system's side
            cp.responses["GetInstalledCertificateIds"] = {"status": "NotFound"}
            answered = await api.post(
                "/charge-points/CP1/commands",
                params={"wait": "true"},
                json={
                    "action": "GetInstalledCertificateIds",
                    "payload": {"certificateType": "CentralSystemRootCertificate"},
                },
            )
            assert (answered.status_code, answered.json()["status"]) == (202, "rejected")
            assert await cp.wait_for_call("GetInstalledCertificateIds") == {
                "certificateType": "CentralSystemRootCertificate"
            }
            assert (await api.get("/charge-points/CP1")).json()["connected"]
        events = (await api.get("/security-events", params={"charge_point_id": "CP1"})).json()["items"]
        assert [(e["type"], e["critical"]) for e in events] == [("StartupOfTheDevice", True)]


async def test_the_certificate_the_central_system_signs_admits_its_charge_point(
    migrated_url: str, tmp_path: Path
) -> None:
    """SignCertificate over profile 2, CertificateSigned back, then the charge point on profile 3 with it."""
    pki = make_pki(tmp_path)
    async with running_service(migrated_url, **pki.settings) as service:
        api = service.api
        await register(api, "CP1", password=PASSWORD, security_profile=2)
        key = ec.generate_private_key(ec.SECP256R1())
        csr = (
            x509.CertificateSigningRequestBuilder()
            .subject_name(name("CP1", "ACME CPO"))
            .sign(key, hashes.SHA256())
        )
        trusting = pki.client(None)
        async with connect_charge_point(
            service.app.state.gateway, "CP1", password=PASSWORD, uri=wss(service, "CP1"), ssl=trusting
        ) as cp:
            cp.responses["CertificateSigned"] = {"status": "Accepted"}
            pem = csr.public_bytes(serialization.Encoding.PEM).decode()
            assert (await cp.call(call.SignCertificate(csr=pem))).status == "Accepted"
            chain = (await cp.wait_for_call("CertificateSigned"))["certificateChain"]
        signed = x509.load_pem_x509_certificates(chain.encode())[0]
        assert await admitted(service, "CP1", pki.client((signed, key), "signed")) == "Accepted"
        [listed] = (await api.get("/certificates", params={"charge_point_id": "CP1"})).json()["items"]
        assert listed["serial_number"] == format(signed.serial_number, "x")


@pytest.mark.parametrize("tls_version", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3])
async def test_an_expired_or_untrusted_certificate_fails_the_tls_handshake(
    migrated_url: str, tmp_path: Path, tls_version: ssl.TLSVersion, caplog: pytest.LogCaptureFixture
) -> None:
    pki = make_pki(tmp_path)
    now = datetime.now(UTC)
    cases = {
        "expired": issue(
            pki.ca, "CP1", valid_from=now - timedelta(days=30), valid_until=now - timedelta(days=1)
        ),
        "not_yet": issue(
            pki.ca, "CP1", valid_from=now + timedelta(days=1), valid_until=now + timedelta(days=30)
        ),
        "other_ca": issue(
            make_ca("Another CA"), "CP1"
        ),  # the same subject, from a CA the service does not trust
        "server_only": issue(pki.ca, "CP1", server=True),  # not for client authentication
    }
    async with running_service(migrated_url, **pki.settings) as service:
        await register(service.api, "CP1", security_profile=3)
        caplog.set_level(logging.INFO, logger="ocpp_gateway")
        for stem, certificate in cases.items():
            context = pki.client(certificate, stem)
            context.minimum_version = context.maximum_version = tls_version
            # no HTTP response at all: the server's alert (TLS 1.2: in the handshake; TLS 1.3: after the
            # client's Finished) or the reset that follows it
            with pytest.raises((OSError, InvalidMessage)):
                await admitted(service, "CP1", context)
        # the upgrade request was never read: admission logs every attempt it refuses
        assert [record.getMessage() for record in caplog.records if "CP1" in record.getMessage()] == []
        assert "CP1" not in service.app.state.gateway.registry
        valid = pki.client(issue(pki.ca, "CP1"))
        valid.minimum_version = valid.maximum_version = tls_version
        assert await admitted(service, "CP1", valid) == "Accepted"


async def test_a_certificate_naming_another_charge_point_is_refused(
    migrated_url: str, tmp_path: Path
) -> None:
    pki = make_pki(tmp_path)
    async with running_service(migrated_url, **pki.settings, ocpp_ca_organization="ACME CPO") as service:
        await register(service.api, "CP1", security_profile=3)
        await register(service.api, "CP2", password=PASSWORD)
        cases = [
            issue(pki.ca, "CP2"),  # another charge point's (registered) certificate
            issue(pki.ca, "cp1"),
            issue(pki.ca, "CP1", "Other CPO"),  # not the configured organisation
            issue(pki.ca, "CP1", None),
        ]
        for number, certificate in enumerate(cases):
            assert await refused_status(wss(service, "CP1"), pki.client(certificate, f"c{number}")) == 403
        # whatever the password: the certificate presented must name the charge point
        assert await refused_status(wss(service, "CP2"), pki.client(cases[2], "cp1"), PASSWORD) == 403
        assert "CP1" not in service.app.state.gateway.registry


async def test_a_charge_point_that_must_use_profile_3_is_refused_without_a_certificate(
    migrated_url: str, tmp_path: Path
) -> None:
    pki = make_pki(tmp_path)
    async with running_service(migrated_url, **pki.settings) as service:
        await register(service.api, "CP1", password=PASSWORD, security_profile=3)
        trusting = pki.client(None)
        assert await refused_status(wss(service, "CP1"), trusting, PASSWORD) == 401
        assert await refused_status(wss(service, "CP1"), trusting) == 401
        # the same charge point, the same password: admitted once profile 2 is enough
        changed = await service.api.patch("/charge-points/CP1", json={"security_profile": 2})
        assert changed.json()["security_profile"] == 2
        assert await admitted(service, "CP1", trusting, password=PASSWORD) == "Accepted"
        # and a client certificate satisfies any minimum, without the password
        assert await admitted(service, "CP1", pki.client(issue(pki.ca, "CP1"))) == "Accepted"


async def test_a_charge_point_that_must_use_profile_2_is_refused_without_tls(migrated_url: str) -> None:
    async with running_service(migrated_url) as service:
        await register(service.api, "CP1", password=PASSWORD, security_profile=2)
        assert await refused_status(service.ws("CP1"), None, PASSWORD) == 401
        assert "CP1" not in service.app.state.gateway.registry
        await service.api.patch("/charge-points/CP1", json={"security_profile": 1})
        assert await admitted(service, "CP1", None, password=PASSWORD) == "Accepted"
        # profile 1: the password is required even where the global rules would not ask for one
        await service.api.patch("/charge-points/CP1", json={"password": None})
        assert await refused_status(service.ws("CP1"), None) == 401
        await service.api.patch("/charge-points/CP1", json={"security_profile": 0})
        await eventually(lambda: "CP1" not in service.app.state.gateway.registry)  # the first one gone
        assert await admitted(service, "CP1", None) == "Accepted"


@pytest.mark.parametrize("value", [4, -1, "3x", 1.5, None])
async def test_the_security_profile_is_validated(migrated_url: str, value: object) -> None:
    async with running_service(migrated_url) as service:
        api = service.api
        refused = await api.post("/charge-points", json={"id": "CP1", "security_profile": value})
        assert refused.status_code == 422
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert (await api.get("/charge-points")).json()["total"] == 0
        assert (await register(api, "CP1"))["security_profile"] == 0  # the default: the global rules
        refused = await api.patch("/charge-points/CP1", json={"security_profile": value})
        assert refused.status_code == 422
        assert "security_profile" in str(refused.json()["errors"])
        assert (await api.get("/charge-points/CP1")).json()["security_profile"] == 0


def test_tls_settings_come_complete(tmp_path: Path) -> None:
    pem = tmp_path / "x.pem"
    for incomplete in ({"ocpp_tls_cert": pem}, {"ocpp_tls_key": pem}, {"ocpp_tls_client_ca": pem}):
        with pytest.raises(ValidationError, match="SMARTCHARGE_OCPP_TLS"):
            Settings(**incomplete)
    assert Settings(ocpp_tls_cert=pem, ocpp_tls_key=pem, ocpp_tls_client_ca=pem).ocpp_tls_client_ca == pem
