"""The certificates charge points report installed (issue 17): GetInstalledCertificateIds answers from the
`ocpp` package's ChargePoint replace what is known per certificate type, DeleteCertificate removes one, and
`GET /installed-certificates` lists them, with subject and expiry for those this service installed.
SQLite and PostgreSQL."""

from datetime import datetime
from typing import Any

import httpx
import pytest

from tests.e2e.service import running_service
from tests.gateway.helpers import connect_charge_point
from tests.security.pki import make_ca
from tests.security.test_security_operations import hash_data, send

pytestmark = pytest.mark.anyio

CENTRAL, MANUFACTURER = "CentralSystemRootCertificate", "ManufacturerRootCertificate"


async def installed(api: httpx.AsyncClient, **params: str) -> list[dict[str, Any]]:
    listed = await api.get("/installed-certificates", params={"charge_point_id": "CP1", **params})
    assert listed.status_code == 200, listed.text
    items: list[dict[str, Any]] = listed.json()["items"]
    return items


async def test_reported_certificates_are_listed_with_the_expiry_of_those_installed_here(
    migrated_url: str,
) -> None:
    ours, foreign, manufacturer = make_ca("CPO Root"), make_ca("Someone's Root"), make_ca("Maker Root")
    # as a charge point may write it: upper case
    foreign_data = {name: value.upper() for name, value in hash_data(foreign).items()}
    answers: dict[str, dict[str, Any]] = {
        CENTRAL: {"status": "Accepted", "certificateHashData": [hash_data(ours), foreign_data]},
        MANUFACTURER: {"status": "Accepted", "certificateHashData": [hash_data(manufacturer)]},
    }
    async with running_service(migrated_url) as service:
        api = service.api
        assert (await api.post("/charge-points", json={"id": "CP1"})).status_code == 201
        async with connect_charge_point(service.app.state.gateway, "CP1") as cp:
            cp.responses |= {
                "InstallCertificate": {"status": "Accepted"},
                "GetInstalledCertificateIds": lambda payload: answers[payload["certificateType"]],
                "DeleteCertificate": {"status": "Accepted"},
            }
            payload = {"certificateType": CENTRAL, "certificate": ours.pem}
            assert (await send(api, "InstallCertificate", payload)).json()["status"] == "accepted"
            for certificate_type in (CENTRAL, MANUFACTURER):
                asked = await send(api, "GetInstalledCertificateIds", {"certificateType": certificate_type})
                assert asked.json()["status"] == "accepted"

            rows = await installed(api)
            assert [(row["certificate_type"], row["subject"]) for row in rows] == [
                (CENTRAL, "O=ACME CPO,CN=CPO Root"),
                (CENTRAL, None),
                (MANUFACTURER, None),
            ]
            assert datetime.fromisoformat(rows[0]["not_after"]) == ours.certificate.not_valid_after_utc
            assert rows[1]["serial_number"] == hash_data(foreign)["serialNumber"]
            assert rows[2]["not_after"] is None
            assert [
                row["certificate_type"] for row in await installed(api, certificate_type=MANUFACTURER)
            ] == [MANUFACTURER]

            # deleted: gone; then the charge point says it has none of the type left
            deleted = await send(api, "DeleteCertificate", {"certificateHashData": hash_data(ours)})
            assert deleted.json()["status"] == "accepted"
            assert [row["subject"] for row in await installed(api, certificate_type=CENTRAL)] == [None]
            answers[CENTRAL] = {"status": "NotFound"}
            assert (await send(api, "GetInstalledCertificateIds", {"certificateType": CENTRAL})).json()[
                "status"
            ] == "rejected"
            assert [row["certificate_type"] for row in await installed(api)] == [MANUFACTURER]
