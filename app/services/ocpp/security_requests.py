"""Checks of the security extension's central-system requests beyond their JSON schemas (which the gateway
applies first): PEM certificates that parse, URLs with a scheme and host, Base64 signatures, hexadecimal
hashes, time ranges in order. A request that fails is refused before it is recorded or sent."""

import base64
import binascii
import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509

from app.domain.clock import as_utc


class InvalidRequest(ValueError):
    """`field: why` for the request's payload."""


_HEX = re.compile(r"[0-9A-Fa-f]+")


def _certificates(field: str, text: object) -> None:
    try:
        found = x509.load_pem_x509_certificates(str(text).encode())
    except ValueError as error:
        raise InvalidRequest(f"{field}: not PEM-encoded X.509 certificates ({error})") from error
    if not found:
        raise InvalidRequest(f"{field}: no certificate")


def _url(field: str, text: object) -> None:
    parts = urlsplit(str(text))
    if not parts.scheme or not parts.netloc:
        raise InvalidRequest(f"{field}: not an absolute URL (scheme://host/...)")


def _install_certificate(payload: Mapping[str, Any]) -> None:
    _certificates("certificate", payload["certificate"])


def _certificate_signed(payload: Mapping[str, Any]) -> None:
    _certificates("certificateChain", payload["certificateChain"])


def _delete_certificate(payload: Mapping[str, Any]) -> None:
    data = payload["certificateHashData"]
    for name in ("issuerNameHash", "issuerKeyHash", "serialNumber"):
        if not _HEX.fullmatch(str(data[name])):
            raise InvalidRequest(f"certificateHashData.{name}: not hexadecimal")


def _get_log(payload: Mapping[str, Any]) -> None:
    log = payload["log"]
    _url("log.remoteLocation", log["remoteLocation"])
    oldest, latest = log.get("oldestTimestamp"), log.get("latestTimestamp")
    if oldest is not None and latest is not None and _instant(oldest) > _instant(latest):
        raise InvalidRequest("log.latestTimestamp: before log.oldestTimestamp")


def _signed_update_firmware(payload: Mapping[str, Any]) -> None:
    firmware = payload["firmware"]
    _url("firmware.location", firmware["location"])
    _certificates("firmware.signingCertificate", firmware["signingCertificate"])
    try:
        base64.b64decode(str(firmware["signature"]), validate=True)
    except binascii.Error as error:
        raise InvalidRequest("firmware.signature: not Base64") from error
    install = firmware.get("installDateTime")
    if install is not None and _instant(install) < _instant(firmware["retrieveDateTime"]):
        raise InvalidRequest("firmware.installDateTime: before firmware.retrieveDateTime")


def _instant(text: str) -> datetime:
    return as_utc(datetime.fromisoformat(text.strip()))  # a dateTime without offset is UTC, as received


CHECKS: dict[str, Callable[[Mapping[str, Any]], None]] = {
    "InstallCertificate": _install_certificate,
    "CertificateSigned": _certificate_signed,
    "DeleteCertificate": _delete_certificate,
    "GetLog": _get_log,
    "SignedUpdateFirmware": _signed_update_firmware,
}


def check(action: str, payload: Mapping[str, Any]) -> None:
    """Raise `InvalidRequest` for a schema-valid `payload` of `action` that cannot work."""
    checker = CHECKS.get(action)
    if checker is not None:
        checker(payload)
