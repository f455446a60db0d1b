"""SignCertificate → CertificateSigned (issue 17): the `ocpp` package's ChargePoint sends a CSR over a real
WebSocket; the service checks it against the charge point, signs it with the configured CA and sends the
certificate in a separate CALL; the certificate and its expiry are listed over HTTP. SQLite and PostgreSQL."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from ocpp.v16 import call

from tests.e2e.service import running_service
from tests.gateway.helpers import ClientChargePoint, connect_charge_point, eventually
from tests.security.pki import make_ca, make_csr

pytestmark = pytest.mark.anyio


async def sign(cp: ClientChargePoint, csr: str) -> str:
    answer = await cp.call(call.SignCertificate(csr=csr))
    status: str = answer.status
    return status


async def test_a_valid_csr_is_signed_and_sent_with_certificate_signed(
    migrated_url: str, tmp_path: Path
) -> None:
    ca = make_ca()
    cert_path, key_path = ca.write(tmp_path)
    settings = {"ocpp_ca_cert": cert_path, "ocpp_ca_key": key_path, "ocpp_ca_organization": "ACME CPO"}
    async with running_service(migrated_url, **settings) as service:
        api = service.api
        assert (await api.post("/charge-points", json={"id": "CP1"})).status_code == 201
        async with connect_charge_point(service.app.state.gateway, "CP1") as cp:
            cp.responses["CertificateSigned"] = {"status": "Accepted"}
            for refused in (
                make_csr("CP2"),  # another charge point's name
                make_csr("CP1", "Other CPO"),  # another organisation
                make_csr("CP1", None),
                make_csr("CP1", key=rsa.generate_private_key(public_exponent=65537, key_size=1024)),
                "-----BEGIN CERTIFICATE REQUEST-----\nbm90IGEgQ1NS\n-----END CERTIFICATE REQUEST-----\n",
            ):
                assert await sign(cp, refused) == "Rejected"
            assert await sign(cp, make_csr("CP1")) == "Accepted"
            chain = (await cp.wait_for_call("CertificateSigned"))["certificateChain"]
            assert [action for action, _ in cp.received] == ["CertificateSigned"]  # none for the refused

        certificate = x509.load_pem_x509_certificates(chain.encode())[0]
        certificate.verify_directly_issued_by(ca.certificate)
        assert certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "CP1"
        usage = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        assert ExtendedKeyUsageOID.CLIENT_AUTH in usage
        now = datetime.now(UTC)
        assert now + timedelta(days=364) < certificate.not_valid_after_utc <= now + timedelta(days=366)

        async def listed() -> list[dict[str, object]]:
            items: list[dict[str, object]] = (
                await api.get("/certificates", params={"charge_point_id": "CP1"})
            ).json()["items"]
            return items

        [issued] = await eventually(listed)
        assert issued["serial_number"] == format(certificate.serial_number, "x")
        assert issued["subject"] == "O=ACME CPO,CN=CP1"
        assert datetime.fromisoformat(str(issued["not_after"])) == certificate.not_valid_after_utc

        async def delivered() -> dict[str, object] | None:
            command: dict[str, object] = (await api.get(f"/commands/{issued['command_id']}")).json()
            return command if command["status"] != "pending" else None

        command = await eventually(delivered)
        assert (command["action"], command["status"], command["author"]) == (
            "CertificateSigned",
            "accepted",
            "gateway",
        )
        later = {"valid_at": (now + timedelta(days=400)).isoformat()}
        assert (await api.get("/certificates", params=later)).json()["total"] == 0


async def test_without_a_ca_sign_certificate_is_rejected(migrated_url: str) -> None:
    async with running_service(migrated_url) as service:
        assert (await service.api.post("/charge-points", json={"id": "CP1"})).status_code == 201
        async with connect_charge_point(service.app.state.gateway, "CP1") as cp:
            assert await sign(cp, make_csr("CP1")) == "Rejected"
        assert (await service.api.get("/certificates")).json()["total"] == 0
