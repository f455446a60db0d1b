"""Enumerations of the domain. Values are what the API and the database store."""

from enum import StrEnum


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
