"""TLS for the OCPP server (security profiles 2 and 3) and what a connection's TLS says about its peer.

With `ocpp_tls_client_ca` set, the server asks every client for a certificate but does not require one
(`CERT_OPTIONAL`), so that profile 2 and profile 3 charge points share the port:

* a certificate that is presented is verified during the TLS handshake: one that is expired, not yet
  valid, not for client authentication or not issued by a CA of the bundle fails the handshake itself (no
  HTTP request is ever read);
* a handshake without a certificate succeeds, and admission (`admission.py`) refuses the upgrade when the
  charge point must use profile 3.

That the subject names the charge point (the id in the path) is checked on the upgrade request, the first
moment the id is known.
"""

import ssl
from dataclasses import dataclass

from cryptography import x509
from websockets.asyncio.server import ServerConnection

from app.domain.enums import SecurityProfile
from app.settings import Settings

MINIMUM_VERSION = ssl.TLSVersion.TLSv1_2  # the whitepaper: TLS 1.2 or above


def server_context(settings: Settings) -> ssl.SSLContext | None:
    """The server's TLS context; None without `ocpp_tls_cert` / `ocpp_tls_key` (plain ws://)."""
    cert, key = settings.ocpp_tls_cert, settings.ocpp_tls_key
    if cert is None or key is None:
        return None
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = MINIMUM_VERSION
    context.load_cert_chain(cert, key)
    if settings.ocpp_tls_client_ca is not None:
        context.load_verify_locations(cafile=settings.ocpp_tls_client_ca)
        context.verify_mode = ssl.CERT_OPTIONAL
    return context


@dataclass(frozen=True)
class Peer:
    """The transport a connection arrived on: TLS or not, and the client certificate TLS verified."""

    tls: bool
    certificate: x509.Certificate | None = None

    @property
    def profile(self) -> SecurityProfile:
        """The strongest profile this transport allows (1 or 2 still need the password checked)."""
        if self.certificate is not None:
            return SecurityProfile.tls_client_certificate
        return SecurityProfile.tls_basic_auth if self.tls else SecurityProfile.basic_auth


def peer_of(connection: ServerConnection) -> Peer:
    ssl_object = connection.transport.get_extra_info("ssl_object")
    if not isinstance(ssl_object, ssl.SSLObject | ssl.SSLSocket):
        return Peer(tls=False)
    der = ssl_object.getpeercert(binary_form=True)  # only when verified (CERT_OPTIONAL)
    return Peer(tls=True, certificate=x509.load_der_x509_certificate(der) if der else None)
