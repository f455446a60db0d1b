"""Enumerations of the domain. Values are what the API and the database store."""

from enum import IntEnum, StrEnum


class Role(StrEnum):
    admin = "admin"
    operator = "operator"
    grid_operator = "grid_operator"
    analyst = "analyst"


class RegistrationStatus(StrEnum):
    """An operator's decision on a charge point, answered in BootNotification."""

    accepted = "Accepted"
    pending = "Pending"
    rejected = "Rejected"


class SecurityProfile(IntEnum):
    """The OCPP 1.6 Security Whitepaper's profiles: how a charge point is authenticated on its connection."""

    unsecured = 0  # no password, no TLS: the registration check only
    basic_auth = 1  # HTTP Basic password
    tls_basic_auth = 2  # TLS (server certificate) + HTTP Basic password
    tls_client_certificate = 3  # TLS with a client certificate naming the charge point


class CommandStatus(StrEnum):
    pending = "pending"
    accepted = "accepted"
    rejected = "rejected"
    error = "error"
    timeout = "timeout"


class ReservationStatus(StrEnum):
    requested = "requested"
    accepted = "accepted"
    rejected = "rejected"
    used = "used"
    cancelled = "cancelled"
    expired = "expired"
