"""Entities of the central system: what charge points are and report, and what is sent to them.

Plain dataclasses: `app.db` maps them onto its tables, so that repositories return these and nothing of the
ORM leaks out. Timestamps are UTC and timezone-aware.
"""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from app.domain.clock import utcnow

# IEC 61851-1: below 6 A per phase an EV does not charge; a limit between 0 and this is a pause.
DEFAULT_MIN_CURRENT_A = 6.0


@dataclass(eq=False, kw_only=True)
class ChargePoint:
    id: str
    description: str | None = None
    password_hash: str | None = None
    security_profile: int = 0  # the weakest `SecurityProfile` it may connect with
    registration_status: str = "Accepted"
    vendor: str | None = None
    model: str | None = None
    serial_number: str | None = None
    box_serial_number: str | None = None
    firmware_version: str | None = None
    iccid: str | None = None
    imsi: str | None = None
    meter_type: str | None = None
    meter_serial_number: str | None = None
    last_boot_at: datetime | None = None
    last_heartbeat_at: datetime | None = None
    last_seen_at: datetime | None = None
    connected: bool = False
    connected_since: datetime | None = None
    diagnostics_status: str | None = None
    diagnostics_status_at: datetime | None = None
    firmware_status: str | None = None
    firmware_status_at: datetime | None = None
    local_list_version: int | None = None
    min_current_a: float | None = None  # per phase, for its connectors (else the site's)
    site_id: int | None = None
    group_id: int | None = None
    created_at: datetime = field(default_factory=utcnow)


@dataclass(eq=False, kw_only=True)
class BootNotification:
    """Every BootNotification as received, all fields."""

    id: int | None = None
    charge_point_id: str
    payload: dict[str, Any]
    status: str
    received_at: datetime = field(default_factory=utcnow)


@dataclass(eq=False, kw_only=True)
class Connector:
    """Live state per connector; connector 0 is the charge point as a whole."""

    id: int | None = None
    charge_point_id: str
    connector_id: int
    status: str | None = None
    error_code: str | None = None
    info: str | None = None
    vendor_id: str | None = None
    vendor_error_code: str | None = None
    status_at: datetime | None = None
    phases: int = 3
    nominal_voltage_v: float = 230.0
    max_current_a: float = 32.0
    min_current_a: float | None = None  # per phase (else the charge point's, else the site's)


@dataclass(eq=False, kw_only=True)
class StatusNotification:
    """Full history of StatusNotification, including connector 0."""

    id: int | None = None
    charge_point_id: str
    connector_id: int
    status: str
    error_code: str
    info: str | None = None
    vendor_id: str | None = None
    vendor_error_code: str | None = None
    timestamp: datetime | None = None
    received_at: datetime = field(default_factory=utcnow)


@dataclass(eq=False, kw_only=True)
class IdTag:
    id_tag: str
    parent_id_tag: str | None = None
    expiry_date: datetime | None = None
    blocked: bool = False
    max_active_transactions: int = 1
    note: str | None = None
    driver_id: int | None = None  # the person the tag belongs to
    created_at: datetime = field(default_factory=utcnow)


@dataclass(eq=False, kw_only=True)
class Driver:
    """A person who owns id tags (SteVe's "user"): a name and how to reach them."""

    id: int | None = None
    name: str
    email: str | None = None
    phone: str | None = None
    note: str | None = None
    created_at: datetime = field(default_factory=utcnow)


@dataclass(eq=False, kw_only=True)
class Transaction:
    id: int | None = None
    charge_point_id: str
    connector_id: int
    id_tag: str
    id_tag_status: str = "Accepted"
    start_timestamp: datetime
    meter_start_wh: int
    reservation_id: int | None = None
    start_received_at: datetime = field(default_factory=utcnow)
    stop_timestamp: datetime | None = None
    meter_stop_wh: int | None = None
    stop_reason: str | None = None
    stop_id_tag: str | None = None
    stop_received_at: datetime | None = None


@dataclass(eq=False, kw_only=True)
class MeterValue:
    """One sampledValue: raw as received, plus the value normalised to W, Wh, A, V (or the raw unit)."""

    id: int | None = None
    charge_point_id: str
    connector_id: int
    transaction_id: int | None = None
    timestamp: datetime
    value: str
    context: str = "Sample.Periodic"
    format: str = "Raw"
    measurand: str = "Energy.Active.Import.Register"
    phase: str | None = None
    location: str = "Outlet"
    unit: str = "Wh"
    value_normalised: float | None = None
    unit_normalised: str | None = None
    source: str = "MeterValues"
    dedup_key: str
    received_at: datetime = field(default_factory=utcnow)


@dataclass(eq=False, kw_only=True)
class DataTransfer:
    id: int | None = None
    charge_point_id: str
    direction: str
    vendor_id: str
    message_id: str | None = None
    data: str | None = None
    status: str | None = None
    received_at: datetime = field(default_factory=utcnow)


@dataclass(eq=False, kw_only=True)
class ChargePointConfiguration:
    """Configuration keys as last read with GetConfiguration (or set with ChangeConfiguration)."""

    id: int | None = None
    charge_point_id: str
    key: str
    value: str | None = None
    readonly: bool = False
    updated_at: datetime = field(default_factory=utcnow)


@dataclass(frozen=True)
class ConfigurationEntry:
    """One configuration key as a charge point reports it or as it is changed (`readonly` None: unknown)."""

    key: str
    value: str | None
    readonly: bool | None = None


@dataclass(eq=False, kw_only=True)
class Command:
    """A central-system operation sent to a charge point, with its outcome (the "task" view)."""

    id: int | None = None
    charge_point_id: str
    action: str
    payload: dict[str, Any]
    status: str = "pending"
    response: dict[str, Any] | None = None
    error_code: str | None = None
    error_description: str | None = None
    author: str | None = None
    created_at: datetime = field(default_factory=utcnow)
    sent_at: datetime | None = None
    completed_at: datetime | None = None


@dataclass(eq=False, kw_only=True)
class Reservation:
    id: int | None = None
    charge_point_id: str
    connector_id: int
    id_tag: str
    parent_id_tag: str | None = None
    expiry_date: datetime
    status: str = "requested"
    transaction_id: int | None = None
    command_id: int | None = None
    created_at: datetime = field(default_factory=utcnow)
