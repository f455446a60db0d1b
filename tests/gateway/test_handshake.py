"""The upgrade: subprotocol, id, unknown charge points, HTTP Basic, TLS, replacement of a live connection."""

import asyncio
import datetime as dt
import ipaddress
import ssl
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from ocpp.v16 import call
from sqlmodel import select
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from app.db.engine import Database
from app.db.store import SqlUnitOfWork
from app.domain.enums import RegistrationStatus
from app.domain.ocpp import ChargePoint
from app.settings import Settings
from ocpp_gateway import OcppServer
from tests.gateway.helpers import (
    basic_auth,
    connect_charge_point,
    eventually,
    register_charge_point,
    running_gateway,
    url,
)

pytestmark = pytest.mark.anyio

BOOT = call.BootNotification(charge_point_vendor="Acme", charge_point_model="M1")


async def refused_status(address: str, **kwargs: object) -> int:
    with pytest.raises(InvalidStatus) as refused:
        async with connect(address, **kwargs):  # type: ignore[arg-type]
            pass
    return refused.value.response.status_code


async def charge_point_row(gateway: OcppServer, cp_id: str) -> ChargePoint | None:
    async with gateway.store.database.session() as session:
        return await session.get(ChargePoint, cp_id)


@pytest.mark.parametrize("offered", [["ocpp2.0.1"], None, ["ocpp1.5", "ocpp2.0"]])
async def test_subprotocol_ocpp16_is_required(gateway: OcppServer, offered: list[str] | None) -> None:
    assert await refused_status(url(gateway, "CP1"), subprotocols=offered) == 400
    assert await charge_point_row(gateway, "CP1") is None


@pytest.mark.parametrize(
    "path",
    [
        "/ocpp/" + "A" * 49,
        "/ocpp/bad%20id",
        "/ocpp/a/b",
        "/ocpp/",
        "/other/CP1",
        "/ocpp/%2Fetc",
        "/ocpp/caf%C3%A9",
    ],
)
async def test_invalid_ids_are_refused(gateway: OcppServer, path: str) -> None:
    address = f"ws://127.0.0.1:{gateway.port}{path}"
    assert await refused_status(address, subprotocols=["ocpp1.6"]) == 404
    async with gateway.store.database.session() as session:
        assert (await session.exec(select(ChargePoint))).all() == []


async def test_id_is_url_decoded_and_may_be_48_long(gateway: OcppServer) -> None:
    async with connect_charge_point(gateway, "CP%2D1") as cp:
        await cp.call(call.Heartbeat())
    long_id = "L" * 48
    async with connect_charge_point(gateway, long_id) as cp:
        await cp.call(call.Heartbeat())
    assert await charge_point_row(gateway, "CP-1") is not None
    assert await charge_point_row(gateway, long_id) is not None


async def test_unknown_rejected(migrated_url: str) -> None:
    async with running_gateway(migrated_url, unknown_charge_points="reject") as gateway:
        assert await refused_status(url(gateway, "NEW"), subprotocols=["ocpp1.6"]) == 401
        assert await charge_point_row(gateway, "NEW") is None


async def refusal(address: str, **kwargs: object) -> tuple[int, bytes, str | None]:
    with pytest.raises(InvalidStatus) as refused:
        async with connect(address, subprotocols=["ocpp1.6"], **kwargs):  # type: ignore[arg-type,list-item]
            pass
    response = refused.value.response
    return response.status_code, response.body or b"", response.headers.get("WWW-Authenticate")


@pytest.mark.parametrize("require", [True, False])
async def test_known_and_unknown_ids_get_the_same_answer(migrated_url: str, require: bool) -> None:
    async with running_gateway(
        migrated_url, unknown_charge_points="reject", ocpp_require_password=require
    ) as gateway:
        await register_charge_point(gateway, "KNOWN", password="correct horse battery")
        for credentials in (None, "wrong password"):
            answers = {
                cp_id: await refusal(
                    url(gateway, cp_id),
                    additional_headers=basic_auth(cp_id, credentials) if credentials else None,
                )
                for cp_id in ("KNOWN", "UNKNOWN")
            }
            assert answers["KNOWN"] == answers["UNKNOWN"]
            assert answers["KNOWN"][0] == 401
            assert answers["KNOWN"][2] == 'Basic realm="smartcharge", charset="UTF-8"'
        assert await charge_point_row(gateway, "UNKNOWN") is None


@pytest.mark.parametrize(("mode", "status"), [("pending", "Pending"), ("accept", "Accepted")])
async def test_unknown_pending_or_accepted(migrated_url: str, mode: str, status: str) -> None:
    async with (
        running_gateway(migrated_url, unknown_charge_points=mode) as gateway,
        connect_charge_point(gateway, "NEW") as cp,
    ):
        result = await cp.call(BOOT)
        row = await charge_point_row(gateway, "NEW")
    assert result.status == status
    assert row is not None
    assert row.registration_status == status
    assert row.vendor == "Acme"


async def test_basic_auth(gateway: OcppServer) -> None:
    await register_charge_point(gateway, "SECURE", password="correct horse battery")
    address = url(gateway, "SECURE")
    assert await refused_status(address, subprotocols=["ocpp1.6"]) == 401
    wrong = basic_auth("SECURE", "wrong")
    assert await refused_status(address, subprotocols=["ocpp1.6"], additional_headers=wrong) == 401
    other_user = basic_auth("OTHER", "correct horse battery")
    assert await refused_status(address, subprotocols=["ocpp1.6"], additional_headers=other_user) == 401
    garbage = {"Authorization": "Basic !!!notbase64"}
    assert await refused_status(address, subprotocols=["ocpp1.6"], additional_headers=garbage) == 401
    async with connect_charge_point(gateway, "SECURE", password="correct horse battery") as cp:
        assert (await cp.call(BOOT)).status == "Accepted"


async def test_password_required_for_everyone(migrated_url: str) -> None:
    async with running_gateway(
        migrated_url, ocpp_require_password=True, unknown_charge_points="pending"
    ) as gateway:
        await register_charge_point(gateway, "NOPASS")
        await register_charge_point(gateway, "WITHPASS", password="s3cret-s3cret-16")
        assert await refused_status(url(gateway, "NOPASS"), subprotocols=["ocpp1.6"]) == 401
        assert await refused_status(url(gateway, "UNKNOWN"), subprotocols=["ocpp1.6"]) == 401
        async with connect_charge_point(gateway, "WITHPASS", password="s3cret-s3cret-16") as cp:
            await cp.call(call.Heartbeat())
        assert await charge_point_row(gateway, "UNKNOWN") is None


def self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


async def test_tls_security_profile_2(migrated_url: str, tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    client_tls = ssl.create_default_context(cafile=str(cert))
    async with running_gateway(migrated_url, ocpp_tls_cert=cert, ocpp_tls_key=key) as gateway:
        await register_charge_point(gateway, "TLS1", password="tls-password-123")
        address = url(gateway, "TLS1", scheme="wss")
        async with connect_charge_point(
            gateway, "TLS1", password="tls-password-123", uri=address, ssl=client_tls
        ) as cp:
            assert (await cp.call(BOOT)).status == "Accepted"
        assert await refused_status(address, subprotocols=["ocpp1.6"], ssl=client_tls) == 401
        with pytest.raises((OSError, ConnectionClosed, InvalidHandshake, TimeoutError)):
            async with connect(url(gateway, "TLS1"), subprotocols=["ocpp1.6"], open_timeout=2):  # type: ignore[list-item]
                pass


async def test_new_authenticated_connection_replaces_the_live_one(gateway: OcppServer) -> None:
    await register_charge_point(gateway, "CP1", password="correct horse battery")
    async with connect_charge_point(gateway, "CP1", password="correct horse battery") as first:
        await first.call(call.Heartbeat())
        old = gateway.registry.get("CP1")
        async with connect_charge_point(gateway, "CP1", password="correct horse battery") as second:
            await eventually(lambda: gateway.registry.get("CP1") is not old)
            async with asyncio.timeout(5):
                await first._connection.wait_closed()
            assert first._connection.close_reason == "replaced by a new connection"
            assert (await second.call(BOOT)).status == "Accepted"
            command_id = await gateway.commands.send("CP1", "ClearCache", {}, wait=True)
            assert command_id > 0
            assert ("ClearCache", {}) in second.received
            row = await charge_point_row(gateway, "CP1")
            assert row is not None
            assert row.connected


async def test_without_a_password_a_second_connection_does_not_replace_the_live_one(
    gateway: OcppServer,
) -> None:
    async with connect_charge_point(gateway, "CP1") as live:
        await live.call(call.Heartbeat())
        endpoint = gateway.registry.get("CP1")
        assert await refused_status(url(gateway, "CP1"), subprotocols=["ocpp1.6"]) == 409
        assert gateway.registry.get("CP1") is endpoint
        assert (await live.call(call.Heartbeat())).current_time
    await eventually(lambda: "CP1" not in gateway.registry)
    async with connect_charge_point(gateway, "CP1") as again:  # once the first one closed
        assert (await again.call(BOOT)).status == "Accepted"


async def test_failed_authentication_does_not_touch_the_live_connection(gateway: OcppServer) -> None:
    await register_charge_point(gateway, "SECURE", password="correct horse battery")
    async with connect_charge_point(gateway, "SECURE", password="correct horse battery") as live:
        endpoint = gateway.registry.get("SECURE")
        wrong = basic_auth("SECURE", "guess")
        assert (
            await refused_status(url(gateway, "SECURE"), subprotocols=["ocpp1.6"], additional_headers=wrong)
            == 401
        )
        assert await refused_status(url(gateway, "SECURE"), subprotocols=["ocpp2.0"]) == 400
        assert gateway.registry.get("SECURE") is endpoint
        assert (await live.call(call.Heartbeat())).current_time
        row = await charge_point_row(gateway, "SECURE")
        assert row is not None
        assert row.connected


async def test_many_concurrent_first_connects(gateway: OcppServer) -> None:
    async def boot(cp_id: str) -> str:
        async with connect_charge_point(gateway, cp_id) as cp:
            status: str = (await cp.call(BOOT)).status
            await cp.call(call.StatusNotification(connector_id=1, error_code="NoError", status="Available"))
            return status

    ids = [f"FLEET{i}" for i in range(40)]
    async with asyncio.timeout(60):
        statuses = await asyncio.gather(*(boot(cp_id) for cp_id in ids))
    assert set(statuses) == {"Accepted"}

    async def all_disconnected() -> bool:
        async with gateway.store.database.session() as session:
            rows = (await session.exec(select(ChargePoint))).all()
        return len(rows) == 40 and not any(row.connected for row in rows)

    assert await eventually(all_disconnected)


async def test_creating_an_unknown_charge_point_is_race_safe(database: Database) -> None:
    now = dt.datetime.now(dt.UTC)

    async def create() -> None:
        async with database.session() as session:
            await SqlUnitOfWork(session).charge_points.add_if_absent("SAME", RegistrationStatus.pending, now)

    await asyncio.gather(*(create() for _ in range(10)))
    async with database.session() as session:
        rows = (await session.exec(select(ChargePoint))).all()
    assert [(row.id, row.registration_status) for row in rows] == [("SAME", "Pending")]


@pytest.mark.parametrize(
    ("host", "require", "required"),
    [
        ("127.0.0.1", None, False),
        ("::1", None, False),
        ("localhost", None, False),
        ("0.0.0.0", None, True),
        ("::", None, True),
        ("192.0.2.10", None, True),
        ("charge.example.net", None, True),
        ("0.0.0.0", False, False),
        ("127.0.0.1", True, True),
    ],
)
def test_passwords_are_required_by_default_beyond_loopback(
    host: str, require: bool | None, required: bool
) -> None:
    settings = Settings(ocpp_host=host, ocpp_require_password=require)
    assert settings.ocpp_passwords_required is required


def test_ocpp_listens_on_loopback_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SMARTCHARGE_OCPP_HOST", raising=False)
    monkeypatch.delenv("SMARTCHARGE_OCPP_REQUIRE_PASSWORD", raising=False)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.ocpp_host == "127.0.0.1"
    assert settings.ocpp_require_password is None
