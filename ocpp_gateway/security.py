"""The security extension's charge-point-initiated messages: thin `@on` handlers mixed into
`CentralSystemChargePoint` (SecurityEventNotification, LogStatusNotification,
SignedFirmwareStatusNotification, SignCertificate).

SignCertificate is answered Accepted when a CA is configured and the CSR may be signed; the certificate is
then sent with CertificateSigned from an `@after` hook, once the CALLRESULT is out (a CALL from inside the
`@on` handler would wait behind it until timeout), through the command service that records it.
"""

import asyncio
import logging
from typing import TYPE_CHECKING

from cryptography import x509
from ocpp.v16 import call_result
from ocpp.v16.enums import Action

from app.domain.ports import CommandRefused
from app.services.ocpp import certificates, security
from app.services.ocpp.certificates import CertificateAuthority, InvalidCsr
from app.settings import Settings
from ocpp_gateway.rpc import after, on
from ocpp_gateway.wire import parse_timestamp

if TYPE_CHECKING:
    from ocpp_gateway.charge_point import GatewayContext

log = logging.getLogger(__name__)


def authority_of(settings: Settings) -> CertificateAuthority | None:
    """The CA of `ocpp_ca_cert` / `ocpp_ca_key`, None when they are not set."""
    if settings.ocpp_ca_cert is None or settings.ocpp_ca_key is None:
        return None
    return certificates.load_authority(
        settings.ocpp_ca_cert,
        settings.ocpp_ca_key,
        organization=settings.ocpp_ca_organization,
        validity_days=settings.ocpp_certificate_validity_days,
    )


class SecurityExtension:
    """Mixin: expects `id` (the charge point's) and `_ctx` (the `GatewayContext`) from the endpoint."""

    id: str
    _ctx: "GatewayContext"

    @on(Action.sign_certificate)
    async def on_sign_certificate(self, csr: str) -> call_result.SignCertificate:
        accepted = self._signable(csr) is not None
        return call_result.SignCertificate(status="Accepted" if accepted else "Rejected")

    @after(Action.sign_certificate)
    async def send_certificate(self, csr: str) -> None:
        request, authority = self._signable(csr), self._ctx.authority
        if request is None or authority is None:
            return
        now = self._ctx.clock.now()
        certificate = certificates.sign(authority, request, now)
        chain = {"certificateChain": certificates.chain_pem(authority, certificate)}
        command_id: int | None = None
        try:  # recorded and sent; its outcome is stored by the command service, as for any command
            command_id = await self._ctx.commands.send(self.id, "CertificateSigned", chain, author="gateway")
        except CommandRefused as refused:
            log.warning("%s: CertificateSigned not sent: %s", self.id, refused.detail)
        # issued is issued: recorded even when the connection (and this hook's task) ends meanwhile
        record = certificates.record_issued(self._ctx.store, self.id, certificate, command_id, now)
        await asyncio.shield(asyncio.ensure_future(record))

    def _signable(self, csr: str) -> x509.CertificateSigningRequest | None:
        """The CSR when it may be signed (checked once per request: the handler and its hook both ask)."""
        checked: tuple[str, x509.CertificateSigningRequest | None] | None = getattr(
            self, "_csr_checked", None
        )
        if checked is not None and checked[0] == csr:
            return checked[1]
        authority, request = self._ctx.authority, None
        if authority is None:
            log.warning("%s: SignCertificate rejected: no CA configured (SMARTCHARGE_OCPP_CA_*)", self.id)
        else:
            try:
                request = certificates.check_csr(csr, self.id, authority.organization)
            except InvalidCsr as invalid:
                log.warning("%s: SignCertificate rejected: %s", self.id, invalid)
        self._csr_checked = (csr, request)
        return request

    @on(Action.security_event_notification)
    async def on_security_event(
        self, type: str, timestamp: str, tech_info: str | None = None
    ) -> call_result.SecurityEventNotification:
        await security.security_event(
            self._ctx.store,
            self.id,
            event_type=type,
            timestamp=parse_timestamp(timestamp),
            tech_info=tech_info,
            now=self._ctx.clock.now(),
        )
        return call_result.SecurityEventNotification()

    @on(Action.log_status_notification)
    async def on_log_status(
        self, status: str, request_id: int | None = None
    ) -> call_result.LogStatusNotification:
        now = self._ctx.clock.now()
        await security.operation_status(
            self._ctx.store, self.id, security.LOG_UPLOAD, status, request_id, now
        )
        return call_result.LogStatusNotification()

    @on(Action.signed_firmware_status_notification)
    async def on_signed_firmware_status(
        self, status: str, request_id: int | None = None
    ) -> call_result.SignedFirmwareStatusNotification:
        now = self._ctx.clock.now()
        await security.operation_status(
            self._ctx.store, self.id, security.SIGNED_FIRMWARE, status, request_id, now
        )
        return call_result.SignedFirmwareStatusNotification()
