"""Who may open a connection: the decision taken on the upgrade request, before the WebSocket exists.

* An id that is not admitted, for whatever reason (unknown and `reject`, wrong or missing password), gets the
  same answer: 401 with a Basic challenge, after the same work (an unknown id with credentials costs an
  Argon2 run, like a wrong password), so ids cannot be enumerated.
* Over a limit of failed attempts (`throttle.FailedAttempts`) the answer is 429 with Retry-After, given
  before any database read or hashing.
* A charge point without a password (allowed only when passwords are not required) cannot replace its own
  live connection: a second connection is refused with 409 until the first closes or misses a pong. With a
  password, an authenticated connection replaces the live one (a charge point that lost its link silently).
* Security profile 3: a client certificate that TLS verified (`tls.py`) authenticates the charge point its
  subject names, without a password; one naming another charge point gets 403, before any database read.
  A charge point whose minimum profile (`security_profile`) is stronger than the transport it came on (no
  TLS for 2, no client certificate for 3) is refused like an unknown id: 401, after the same work.
"""

import asyncio
import http
import ipaddress
import logging

from websockets.asyncio.server import ServerConnection
from websockets.http11 import Request, Response

from app.domain.enums import RegistrationStatus, SecurityProfile
from app.domain.messages import Credentials
from app.domain.persistence import Store
from app.domain.ports import Clock
from app.services.ocpp import certificates, charge_points
from app.services.passwords import PasswordVerifier
from app.settings import Settings, UnknownChargePoints
from ocpp_gateway import handshake, tls
from ocpp_gateway.registry import ConnectionRegistry
from ocpp_gateway.throttle import FailedAttempts

log = logging.getLogger(__name__)


class Admission:
    def __init__(self, settings: Settings, store: Store, clock: Clock, registry: ConnectionRegistry) -> None:
        self.settings = settings
        self.store = store
        self.clock = clock
        self.registry = registry
        self.passwords = PasswordVerifier(
            workers=settings.ocpp_password_workers,
            cache_size=settings.ocpp_password_cache_size,
            cache_ttl_s=settings.ocpp_password_cache_ttl_s,
        )
        self.failures = FailedAttempts(
            per_charge_point=settings.ocpp_auth_failures_per_charge_point,
            per_address=settings.ocpp_auth_failures_per_address,
            window_s=settings.ocpp_auth_failure_window_s,
        )

    def close(self) -> None:
        self.passwords.close()

    async def check(self, connection: ServerConnection, request: Request, cp_id: str) -> Response | None:
        """None to go on with the upgrade; otherwise the HTTP refusal."""
        address = source_of(connection)
        wait_s = self.failures.retry_after_s(cp_id, address)
        if wait_s is not None:
            log.warning("refused %s from %s: too many failed attempts, retry in %d s", cp_id, address, wait_s)
            return _too_many(connection, wait_s)
        self.failures.started(cp_id)  # before any await: concurrent attempts see each other
        verdict: bool | None = None
        try:
            response, verdict = await self._decide(connection, request, cp_id, address)
        finally:
            self.failures.finished(cp_id, address, verdict=verdict)
        return response

    async def _decide(
        self, connection: ServerConnection, request: Request, cp_id: str, address: str
    ) -> tuple[Response | None, bool | None]:
        """The answer, and whether a password was checked and right (None: none was checked)."""
        peer = tls.peer_of(connection)
        if peer.certificate is not None:
            organization = self.settings.ocpp_ca_organization
            problem = certificates.client_certificate_problem(peer.certificate, cp_id, organization)
            if problem is not None:
                log.warning("refused %s from %s: %s", cp_id, address, problem)
                return connection.respond(http.HTTPStatus.FORBIDDEN, "Certificate not for this id\n"), None
        known = await charge_points.credentials(self.store, cp_id)
        required = self.settings.ocpp_passwords_required
        mode = self.settings.unknown_charge_points
        if known is None and (required or mode == UnknownChargePoints.reject):
            return await self._authenticate(connection, request, cp_id, address, None)
        if known is None:
            await self._admit_unknown(cp_id, mode)
            return None, None
        if peer.certificate is not None:  # security profile 3: the certificate authenticates it
            log.debug("%s from %s: authenticated by its client certificate", cp_id, address)
            return None, None
        if peer.profile < known.security_profile:
            log.warning(
                "refused %s from %s: it must use security profile %d, not %d",
                cp_id,
                address,
                known.security_profile,
                peer.profile,
            )
            return await self._authenticate(connection, request, cp_id, address, None)
        if (
            known.password_hash is not None
            or required
            or known.security_profile >= SecurityProfile.basic_auth
        ):
            return await self._authenticate(connection, request, cp_id, address, known)
        if cp_id in self.registry:
            log.warning("refused %s from %s: already connected, and it has no password", cp_id, address)
            return connection.respond(http.HTTPStatus.CONFLICT, "Already connected\n"), None
        return None, None

    async def _authenticate(
        self,
        connection: ServerConnection,
        request: Request,
        cp_id: str,
        address: str,
        known: Credentials | None,
    ) -> tuple[Response | None, bool | None]:
        given = handshake.basic_credentials(request.headers)
        if given is None:
            log.warning("refused %s from %s: no HTTP Basic credentials", cp_id, address)
            return _unauthorised(connection), None
        # the stored hash, when the username names the charge point; otherwise only a decoy run
        password_hash = known.password_hash if known is not None and given.username == cp_id else None
        valid: bool | None = None
        if password_hash is not None:
            valid = self.passwords.remembered(cp_id, password_hash, given.password)
            joined = self.passwords.under_way(cp_id, password_hash, given.password)
            if valid is None and joined is not None:  # a retry while its first attempt is still checked
                valid = await self._outcome(joined, cp_id, address)
        if valid is None:
            async with self.failures.slot(cp_id, address) as wait_s:
                if wait_s is not None:
                    return _too_many(connection, wait_s), None
                if password_hash is not None:
                    verification = self.passwords.verification(cp_id, password_hash, given.password)
                    valid = await self._outcome(verification, cp_id, address)
                else:
                    await self.passwords.decoy(given.password)
                    valid = False
        if not valid:
            log.warning("refused %s from %s: wrong credentials or not admitted", cp_id, address)
            return _unauthorised(connection), False
        return None, True

    async def _outcome(self, verification: asyncio.Future[bool], cp_id: str, address: str) -> bool:
        """Wait for `verification`; when this attempt is abandoned first (the opening timeout), its verdict
        is still counted once known."""
        try:
            return await asyncio.shield(verification)
        except asyncio.CancelledError:
            verification.add_done_callback(lambda done: self._settle(done, cp_id, address))
            raise

    def _settle(self, verification: asyncio.Future[bool], cp_id: str, address: str) -> None:
        if not verification.cancelled() and verification.exception() is None:
            self.failures.record(cp_id, address, verdict=verification.result())

    async def _admit_unknown(self, cp_id: str, mode: UnknownChargePoints) -> None:
        status = (
            RegistrationStatus.pending if mode == UnknownChargePoints.pending else RegistrationStatus.accepted
        )
        await charge_points.admit(self.store, cp_id, status, self.clock.now())
        log.info("admitted unknown charge point %s as %s", cp_id, status.value)


def source_of(connection: ServerConnection) -> str:
    """The source the limits count: an IPv4 address, or an IPv6 /64 (what one subscriber holds)."""
    remote = connection.remote_address
    if not remote:
        return "unknown"
    try:
        address = ipaddress.ip_address(str(remote[0]).split("%")[0])
    except ValueError:
        return str(remote[0])
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def _unauthorised(connection: ServerConnection) -> Response:
    response = connection.respond(http.HTTPStatus.UNAUTHORIZED, "Unauthorized\n")
    response.headers["WWW-Authenticate"] = 'Basic realm="smartcharge", charset="UTF-8"'
    return response


def _too_many(connection: ServerConnection, wait_s: int) -> Response:
    response = connection.respond(http.HTTPStatus.TOO_MANY_REQUESTS, "Too many failed attempts\n")
    response.headers["Retry-After"] = str(wait_s)
    return response
