"""Failed passwords: limited per charge point and per address, hashed in a pool of their own; successful
verifications remembered for reconnects. Attackers connect from other loopback addresses (127.0.0.2 ...)."""

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest
from ocpp.v16 import call
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from app.domain.ocpp import ChargePoint
from app.services.passwords import PasswordVerifier, hash_password
from ocpp_gateway import OcppServer
from ocpp_gateway.admission import source_of
from tests.gateway.helpers import (
    basic_auth,
    connect_charge_point,
    eventually,
    register_charge_point,
    running_gateway,
    url,
)

pytestmark = pytest.mark.anyio

PASSWORD = "correct horse battery"


async def attempt(gateway: OcppServer, cp_id: str, password: str, *, source: str = "127.0.0.1") -> int:
    """The HTTP status of an upgrade with these credentials from `source` (101 when it opened)."""
    try:
        async with connect(
            url(gateway, cp_id),
            subprotocols=["ocpp1.6"],  # type: ignore[list-item]
            additional_headers=basic_auth(cp_id, password),
            local_addr=(source, 0),
            open_timeout=30,
        ):
            return 101
    except InvalidStatus as refused:
        response = refused.response
    if response.status_code == 429:
        assert int(response.headers["Retry-After"]) >= 1
    return response.status_code


async def test_a_flood_of_wrong_passwords_does_not_stop_a_legitimate_charge_point(migrated_url: str) -> None:
    async with running_gateway(
        migrated_url,
        ocpp_require_password=True,
        unknown_charge_points="reject",
        ocpp_auth_failures_per_address=8,
        ocpp_auth_failures_per_charge_point=4,
    ) as gateway:
        await register_charge_point(gateway, "LEGIT", password=PASSWORD)
        await register_charge_point(gateway, "TARGET", password=PASSWORD)
        flood = [
            asyncio.create_task(attempt(gateway, cp_id, f"guess-{i}", source="127.0.0.2"))
            for i in range(64)
            for cp_id in ("TARGET", f"RANDOM{i}")
        ]
        async with connect_charge_point(gateway, "LEGIT", password=PASSWORD) as cp:
            assert (await cp.call(call.Heartbeat())).current_time
        statuses = await asyncio.gather(*flood)
        assert set(statuses) <= {401, 429}
        assert statuses.count(401) <= 8  # the rest refused before their passwords were hashed
        assert gateway.admission.passwords.argon2_runs <= 8 + 1
        assert await attempt(gateway, "LEGIT", PASSWORD, source="127.0.0.2") == 429  # the flooding address


async def test_the_limiter_locks_and_unlocks(migrated_url: str) -> None:
    async with running_gateway(
        migrated_url,
        ocpp_require_password=True,
        ocpp_auth_failure_window_s=2,
        ocpp_auth_failures_per_charge_point=3,
        ocpp_auth_failures_per_address=100,
    ) as gateway:
        await register_charge_point(gateway, "CP1", password=PASSWORD)
        assert await attempt(gateway, "CP1", PASSWORD) == 101  # remembered: wrong guesses cost no Argon2
        runs = gateway.admission.passwords.argon2_runs
        guesses = [await attempt(gateway, "CP1", "wrong", source="127.0.0.2") for _ in range(4)]
        assert guesses == [401, 401, 401, 429]
        assert await attempt(gateway, "CP1", PASSWORD, source="127.0.0.3") == 429  # even the right password
        assert gateway.admission.passwords.argon2_runs == runs

        async def opens() -> bool:
            return await attempt(gateway, "CP1", PASSWORD, source="127.0.0.3") == 101

        assert await eventually(opens, timeout_s=15)  # once the failures left the window


async def test_the_limit_per_address(migrated_url: str) -> None:
    async with running_gateway(
        migrated_url, ocpp_require_password=True, ocpp_auth_failures_per_address=3
    ) as gateway:
        await register_charge_point(gateway, "CP1", password=PASSWORD)
        statuses = [await attempt(gateway, f"X{i}", "wrong", source="127.0.0.2") for i in range(4)]
        assert statuses == [401, 401, 401, 429]
        assert await attempt(gateway, "CP1", PASSWORD, source="127.0.0.2") == 429
        assert await attempt(gateway, "CP1", PASSWORD, source="127.0.0.1") == 101


async def test_guessing_a_charge_points_password_does_not_keep_it_from_reconnecting(
    migrated_url: str,
) -> None:
    async with running_gateway(
        migrated_url, ocpp_require_password=True, ocpp_auth_failures_per_charge_point=3
    ) as gateway:
        await register_charge_point(gateway, "CP1", password=PASSWORD)
        assert await attempt(gateway, "CP1", PASSWORD, source="127.0.0.1") == 101
        assert [await attempt(gateway, "CP1", "guess", source="127.0.0.2") for _ in range(4)][-1] == 429
        assert await attempt(gateway, "CP1", PASSWORD, source="127.0.0.3") == 429
        assert (
            await attempt(gateway, "CP1", PASSWORD, source="127.0.0.1") == 101
        )  # where it last connected from


async def set_password_hash(gateway: OcppServer, cp_id: str, password_hash: str) -> None:
    async with gateway.store.database.session() as session:
        row = await session.get(ChargePoint, cp_id)
        assert row is not None
        row.password_hash = password_hash
        session.add(row)


async def test_a_reconnect_is_verified_from_the_cache_until_the_password_changes(gateway: OcppServer) -> None:
    passwords = gateway.admission.passwords
    await register_charge_point(gateway, "CP1", password=PASSWORD)
    assert await attempt(gateway, "CP1", PASSWORD) == 101
    assert passwords.argon2_runs == 1
    assert [await attempt(gateway, "CP1", PASSWORD) for _ in range(3)] == [101, 101, 101]
    assert passwords.argon2_runs == 1  # reconnects: no Argon2
    assert await attempt(gateway, "CP1", "wrong password") == 401
    assert passwords.argon2_runs == 1  # the cached hash verifies one password only
    remembered = repr(vars(passwords)).encode() + b"".join(
        v.fingerprint for v in passwords._verified.values()
    )
    assert PASSWORD.encode() not in remembered

    await set_password_hash(gateway, "CP1", hash_password("a new password"))
    assert await attempt(gateway, "CP1", PASSWORD) == 401  # the old password no longer opens
    assert await attempt(gateway, "CP1", "a new password") == 101
    runs = passwords.argon2_runs
    assert await attempt(gateway, "CP1", "a new password") == 101
    assert passwords.argon2_runs == runs

    await set_password_hash(gateway, "CP1", hash_password("a new password"))  # same password, new hash
    assert await attempt(gateway, "CP1", "a new password") == 101
    assert passwords.argon2_runs == runs + 1


async def test_an_abandoned_verification_still_ends_and_a_retry_joins_it() -> None:
    verifier = PasswordVerifier(workers=1, cache_size=10, cache_ttl_s=60)
    password_hash = hash_password(PASSWORD)
    try:
        first = asyncio.create_task(verifier.verify("CP1", password_hash, PASSWORD))
        # the task's first step starts the verification; not a 20 ms poll: a whole Argon2 run (≈ 20 ms here)
        # could start and end between two polls
        await asyncio.sleep(0)
        assert verifier.under_way("CP1", password_hash, PASSWORD) is not None
        first.cancel()  # the attempt gave up (the opening timeout)
        retry = verifier.under_way("CP1", password_hash, PASSWORD)
        assert retry is not None
        assert await asyncio.shield(retry) is True
        assert verifier.remembered("CP1", password_hash, PASSWORD) is True
        assert verifier.remembered("CP1", password_hash, "another") is False
        assert verifier.argon2_runs == 1
    finally:
        verifier.close()


@pytest.mark.parametrize(
    ("remote", "counted_as"),
    [
        (("192.0.2.7", 4711), "192.0.2.7"),
        (("2001:db8:1:2:aaaa::1", 4711, 0, 0), "2001:db8:1:2::/64"),
        (("2001:db8:1:2:bbbb::9", 4711, 0, 0), "2001:db8:1:2::/64"),  # the same subscriber
        (("::ffff:192.0.2.7", 4711, 0, 0), "192.0.2.7"),
        (None, "unknown"),
    ],
)
def test_the_limit_counts_an_ipv6_source_as_its_64(remote: Any, counted_as: str) -> None:
    assert source_of(SimpleNamespace(remote_address=remote)) == counted_as  # type: ignore[arg-type]
