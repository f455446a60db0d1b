"""What charge points report and what is sent to them, as the use cases and the batched writes take it:
boots, status reports, handshake credentials, new and completed commands, reservation requests."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.domain.ports import CommandOutcome

# BootNotification field → ChargePoint attribute.
BOOT_FIELDS = {
    "chargePointVendor": "vendor",
    "chargePointModel": "model",
    "chargePointSerialNumber": "serial_number",
    "chargeBoxSerialNumber": "box_serial_number",
    "firmwareVersion": "firmware_version",
    "iccid": "iccid",
    "imsi": "imsi",
    "meterType": "meter_type",
    "meterSerialNumber": "meter_serial_number",
}


@dataclass(frozen=True)
class Credentials:
    """What the handshake needs to know about a charge point."""

    charge_point_id: str
    password_hash: str | None
    registration_status: str
    security_profile: int = 0  # the weakest `SecurityProfile` it may connect with


@dataclass(frozen=True)
class Boot:
    """A BootNotification: `payload` as received (kept whole in the boot history)."""

    charge_point_id: str
    payload: Mapping[str, Any]
    now: datetime

    def attributes(self) -> dict[str, Any]:
        """The charge point's attributes the boot sets (`BOOT_FIELDS`; None for fields not sent)."""
        return {attribute: self.payload.get(name) for name, attribute in BOOT_FIELDS.items()}


@dataclass(frozen=True)
class StatusReport:
    connector_id: int
    status: str
    error_code: str
    timestamp: datetime
    info: str | None = None
    vendor_id: str | None = None
    vendor_error_code: str | None = None


@dataclass(frozen=True)
class NewCommand:
    charge_point_id: str
    action: str
    payload: dict[str, Any]
    author: str | None
    created_at: datetime


@dataclass(frozen=True)
class Completion:
    command_id: int
    outcome: CommandOutcome
    sent_at: datetime | None
    completed_at: datetime
    password_hash: str | None = None  # ChangeConfiguration AuthorizationKey: the new password, once accepted


@dataclass(frozen=True)
class ReservationRequest:
    """A ReserveNow's reservation; `reservation_id` None lets the central system allocate one."""

    connector_id: int
    id_tag: str
    expiry_date: datetime
    parent_id_tag: str | None = None
    reservation_id: int | None = None
