"""The OCPP 1.6 security extension's records: security events, the progress of log uploads and signed
firmware updates as charge points report it, the certificates the central system issued, and those charge
points report installed.

Security event types and which are critical: the OCPP 1.6 Security Whitepaper (edition 3), appendix 1.
A charge point may send other (vendor) types: they are stored as sent, not critical.
"""

from dataclasses import dataclass, field
from datetime import datetime

from app.domain.access import Scope
from app.domain.clock import utcnow

# type → critical (a critical event is pushed by the charge point at once; the others only logged there)
SECURITY_EVENT_TYPES: dict[str, bool] = {
    "FirmwareUpdated": True,
    "FailedToAuthenticateAtCentralSystem": False,
    "CentralSystemFailedToAuthenticate": False,
    "SettingSystemTime": True,
    "StartupOfTheDevice": True,
    "ResetOrReboot": True,
    "SecurityLogWasCleared": True,
    "ReconfigurationOfSecurityParameters": False,
    "MemoryExhaustion": True,
    "InvalidMessages": False,
    "AttemptedReplayAttacks": False,
    "TamperDetectionActivated": True,
    "InvalidFirmwareSignature": False,
    "InvalidFirmwareSigningCertificate": False,
    "InvalidCentralSystemCertificate": False,
    "InvalidChargePointCertificate": False,
    "InvalidTLSVersion": False,
    "InvalidTLSCipherSuite": False,
}


def is_critical(event_type: str) -> bool:
    return SECURITY_EVENT_TYPES.get(event_type, False)


@dataclass(eq=False, kw_only=True)
class SecurityEvent:
    """A SecurityEventNotification as received."""

    id: int | None = None
    charge_point_id: str
    type: str
    timestamp: datetime  # when it happened, by the charge point's clock
    tech_info: str | None = None
    critical: bool = False
    received_at: datetime = field(default_factory=utcnow)


@dataclass(eq=False, kw_only=True)
class OperationStatus:
    """A LogStatusNotification (`operation` "GetLog") or SignedFirmwareStatusNotification
    ("SignedUpdateFirmware"): the status of the request `request_id`."""

    id: int | None = None
    charge_point_id: str
    operation: str
    status: str
    request_id: int | None = None
    received_at: datetime = field(default_factory=utcnow)


@dataclass(eq=False, kw_only=True)
class IssuedCertificate:
    """A charge point certificate signed by the central system's CA for a SignCertificate request."""

    id: int | None = None
    charge_point_id: str
    serial_number: str  # hexadecimal
    subject: str  # RFC 4514
    not_before: datetime
    not_after: datetime
    certificate_pem: str
    command_id: int | None = None  # the CertificateSigned that delivered it
    issued_at: datetime = field(default_factory=utcnow)


@dataclass(eq=False, kw_only=True)
class InstalledCertificate:
    """A certificate a charge point reported installed (GetInstalledCertificateIds), by its hash data; its
    subject and expiry when the central system sent it there (InstallCertificate), else None."""

    id: int | None = None
    charge_point_id: str
    certificate_type: str  # CentralSystemRootCertificate or ManufacturerRootCertificate
    hash_algorithm: str  # SHA256, SHA384 or SHA512
    issuer_name_hash: str  # hexadecimal, as reported
    issuer_key_hash: str
    serial_number: str
    subject: str | None = None  # RFC 4514
    not_after: datetime | None = None
    reported_at: datetime = field(default_factory=utcnow)


@dataclass(frozen=True)
class SecurityEventFilter:
    """Events that happened (charge point's timestamp) in [since, until)."""

    charge_point_id: str | None = None
    type: str | None = None
    critical: bool | None = None
    since: datetime | None = None
    until: datetime | None = None
    scope: Scope = None


@dataclass(frozen=True)
class OperationStatusFilter:
    charge_point_id: str | None = None
    operation: str | None = None
    request_id: int | None = None
    scope: Scope = None


@dataclass(frozen=True)
class CertificateFilter:
    charge_point_id: str | None = None
    valid_at: datetime | None = None  # only certificates valid at this instant
    scope: Scope = None


@dataclass(frozen=True)
class InstalledCertificateFilter:
    charge_point_id: str | None = None
    certificate_type: str | None = None
    scope: Scope = None
