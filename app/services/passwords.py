"""Charge-point passwords (OCPP security profile 1/2 HTTP Basic), hashed with Argon2id.

`PasswordVerifier` checks them in a bounded thread pool of its own (a flood of wrong passwords queues there,
not in the default pool that solves and other blocking work use) and remembers each charge point's last
successful verification, so a reconnect costs an HMAC instead of an Argon2 run. The memory holds a keyed
digest (HMAC-SHA256 under a key made at start and never stored) of the stored hash and the password, never
the password: a changed password or a changed stored hash no longer matches it.
"""

import asyncio
import functools
import hashlib
import hmac
import secrets
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cachetools import TTLCache

# OWASP's Argon2id profile (19 MiB, 2 passes, 1 lane): charge-point passwords are verified at every connect,
# and a whole fleet reconnects at once after an outage. Hashes made with other parameters still verify.
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)

__all__ = ["PasswordVerifier", "decoy_hash", "hash_password", "verify_password"]


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@functools.cache
def decoy_hash() -> str:
    return hash_password(secrets.token_urlsafe(16))


@dataclass(frozen=True)
class _Verified:
    password_hash: str
    fingerprint: bytes


class PasswordVerifier:
    """Verifies charge-point passwords in `workers` threads, remembering up to `cache_size` successes for
    `cache_ttl_s` each. Used from one event loop."""

    def __init__(self, *, workers: int, cache_size: int, cache_ttl_s: float) -> None:
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="password")
        self._verified: TTLCache[str, _Verified] = TTLCache(maxsize=cache_size, ttl=cache_ttl_s)
        self._key = secrets.token_bytes(32)
        self._running: dict[tuple[str, bytes], asyncio.Future[bool]] = {}
        self.argon2_runs = 0

    def _fingerprint(self, password_hash: str, password: str) -> bytes:
        message = password_hash.encode() + b"\0" + password.encode("utf-8", "surrogatepass")
        return hmac.new(self._key, message, hashlib.sha256).digest()

    def remembered(self, charge_point_id: str, password_hash: str, password: str) -> bool | None:
        """The answer from memory, when `password_hash` verified a password before (it verifies only that
        one); None when only Argon2 can tell."""
        known = self._verified.get(charge_point_id)
        if known is None or known.password_hash != password_hash:
            return None
        return hmac.compare_digest(known.fingerprint, self._fingerprint(password_hash, password))

    async def verify(self, charge_point_id: str, password_hash: str, password: str) -> bool:
        remembered = self.remembered(charge_point_id, password_hash, password)
        if remembered is not None:
            return remembered
        return await asyncio.shield(self.verification(charge_point_id, password_hash, password))

    def under_way(
        self, charge_point_id: str, password_hash: str, password: str
    ) -> asyncio.Future[bool] | None:
        """The verification of exactly these credentials that is running, if one is."""
        return self._running.get((charge_point_id, self._fingerprint(password_hash, password)))

    def verification(self, charge_point_id: str, password_hash: str, password: str) -> asyncio.Future[bool]:
        """The verification of these credentials: the one under way, or a new one. It runs to its end, and a
        success is remembered, even when every attempt waiting for it is abandoned (a charge point that gave
        up waiting finds the answer when it tries again)."""
        fingerprint = self._fingerprint(password_hash, password)
        key = (charge_point_id, fingerprint)
        running = self._running.get(key)
        if running is None:
            running = asyncio.ensure_future(
                self._verify(charge_point_id, password_hash, password, fingerprint)
            )
            self._running[key] = running
            running.add_done_callback(lambda _: self._running.pop(key, None))
        return running

    async def _verify(
        self, charge_point_id: str, password_hash: str, password: str, fingerprint: bytes
    ) -> bool:
        valid = await self._run(password_hash, password)
        if valid:
            self._verified[charge_point_id] = _Verified(password_hash, fingerprint)
        return valid

    async def decoy(self, password: str) -> None:
        """Spend what a verification costs (an unknown id answers as slowly as a wrong password)."""
        await self._run(await asyncio.to_thread(decoy_hash), password)

    async def _run(self, password_hash: str, password: str) -> bool:
        self.argon2_runs += 1
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, verify_password, password_hash, password)

    def close(self) -> None:
        for running in list(self._running.values()):
            running.cancel()
        self._executor.shutdown(wait=False, cancel_futures=True)
