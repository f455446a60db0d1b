"""The certificates a charge point has installed, as it reports them: a GetInstalledCertificateIds answer
replaces what is known of that certificate type (`NotFound`: it has none), an accepted (or `NotFound`)
DeleteCertificate removes the one it names. Applied with the command's outcome (`commands._apply`).

OCPP identifies a certificate by its hash data (issuer name and key hashes, serial number), which carries no
expiry: the subject and expiry are filled in when the certificate is one the central system sent to that
charge point with an accepted InstallCertificate.
"""

import hashlib
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from cryptography import x509

from app.domain.enums import CommandStatus
from app.domain.paging import Found, Window
from app.domain.persistence import UnitOfWork
from app.domain.queries import CommandFilter
from app.domain.security import InstalledCertificate, InstalledCertificateFilter

HASHES: dict[str, Callable[[bytes], Any]] = {
    "SHA256": hashlib.sha256,
    "SHA384": hashlib.sha384,
    "SHA512": hashlib.sha512,
}
ANSWERED = frozenset({"Accepted", "NotFound"})  # what says which certificates are (not) there
KNOWN_INSTALLS = 200  # the latest InstallCertificates searched for a subject and expiry


def _serial(value: str) -> str:
    return value.lower().lstrip("0") or "0"


async def reported(
    uow: UnitOfWork,
    charge_point_id: str,
    certificate_type: str,
    response: Mapping[str, Any],
    now: datetime,
) -> None:
    """A GetInstalledCertificateIds answer: the charge point's certificates of `certificate_type`."""
    if response.get("status") not in ANSWERED:
        return
    sent = await _sent(uow, charge_point_id)
    certificates = []
    for data in response.get("certificateHashData") or []:
        known = next((certificate for certificate in sent if _matches(certificate, data)), None)
        certificates.append(
            InstalledCertificate(
                charge_point_id=charge_point_id,
                certificate_type=certificate_type,
                hash_algorithm=data["hashAlgorithm"],
                issuer_name_hash=data["issuerNameHash"].lower(),
                issuer_key_hash=data["issuerKeyHash"].lower(),
                serial_number=_serial(data["serialNumber"]),
                subject=known.subject.rfc4514_string() if known else None,
                not_after=known.not_valid_after_utc if known else None,
                reported_at=now,
            )
        )
    await uow.security.replace_installed(charge_point_id, certificate_type, certificates)


async def deleted(
    uow: UnitOfWork, charge_point_id: str, response: Mapping[str, Any], data: Mapping[str, Any]
) -> None:
    """A DeleteCertificate answer: the certificate `data` names is gone (`Accepted`) or was not there."""
    if response.get("status") not in ANSWERED:
        return
    await uow.security.remove_installed(
        charge_point_id,
        serial_number=_serial(data["serialNumber"]),
        issuer_name_hash=data["issuerNameHash"].lower(),
        issuer_key_hash=data["issuerKeyHash"].lower(),
    )


async def list_installed(
    uow: UnitOfWork, window: Window, filters: InstalledCertificateFilter
) -> Found[InstalledCertificate]:
    return await uow.security.installed(window, filters)


async def _sent(uow: UnitOfWork, charge_point_id: str) -> list[x509.Certificate]:
    """The certificates of the latest accepted InstallCertificates to this charge point."""
    filters = CommandFilter(
        charge_point_id=charge_point_id, action="InstallCertificate", status=CommandStatus.accepted.value
    )
    commands = await uow.commands.list(Window(limit=KNOWN_INSTALLS), filters)
    certificates = []
    for command in commands.items:
        try:
            certificates += x509.load_pem_x509_certificates(str(command.payload["certificate"]).encode())
        except (KeyError, ValueError):  # checked before it was sent; kept readable if not
            continue
    return certificates


def _matches(certificate: x509.Certificate, data: Mapping[str, Any]) -> bool:
    """Whether `data` (hash data) identifies `certificate`: its serial number and issuer name's hash."""
    digest = HASHES.get(str(data.get("hashAlgorithm")))
    try:
        serial = int(str(data.get("serialNumber")), 16)
    except ValueError:
        return False
    if digest is None or serial != certificate.serial_number:
        return False
    issuer_hash: str = digest(certificate.issuer.public_bytes()).hexdigest()
    return issuer_hash == str(data.get("issuerNameHash")).lower()
