"""SQLModel tables. Timestamps are UTC and timezone-aware; the migrations in `migrations/` create them."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.db.types import UTCDateTime, utc_column, utc_created


def tz_column(*, nullable: bool = True, index: bool = False) -> Any:
    return utc_column(nullable=nullable, index=index)


def created_column() -> Any:
    return utc_created()


class ApiKey(SQLModel, table=True):
    __tablename__ = "api_key"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100)
    role: str = Field(max_length=20)
    key_hash: str = Field(max_length=64, unique=True, index=True)
    prefix: str = Field(max_length=12)
    site_ids: list[int] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    created_at: datetime = created_column()
    revoked_at: datetime | None = tz_column()


class ChargePoint(SQLModel, table=True):
    __tablename__ = "charge_point"

    id: str = Field(primary_key=True, max_length=48)
    description: str | None = Field(default=None, max_length=500)
    password_hash: str | None = Field(default=None, max_length=200)
    registration_status: str = Field(default="Accepted", max_length=10)
    vendor: str | None = Field(default=None, max_length=20)
    model: str | None = Field(default=None, max_length=20)
    serial_number: str | None = Field(default=None, max_length=25)
    box_serial_number: str | None = Field(default=None, max_length=25)
    firmware_version: str | None = Field(default=None, max_length=50)
    iccid: str | None = Field(default=None, max_length=20)
    imsi: str | None = Field(default=None, max_length=20)
    meter_type: str | None = Field(default=None, max_length=25)
    meter_serial_number: str | None = Field(default=None, max_length=25)
    last_boot_at: datetime | None = tz_column()
    last_heartbeat_at: datetime | None = tz_column()
    last_seen_at: datetime | None = tz_column()
    connected: bool = Field(default=False)
    connected_since: datetime | None = tz_column()
    diagnostics_status: str | None = Field(default=None, max_length=20)
    diagnostics_status_at: datetime | None = tz_column()
    firmware_status: str | None = Field(default=None, max_length=30)
    firmware_status_at: datetime | None = tz_column()
    local_list_version: int | None = None
    site_id: int | None = Field(default=None, foreign_key="site.id", index=True)
    group_id: int | None = Field(default=None, foreign_key="site_group.id", index=True)
    created_at: datetime = created_column()


class BootNotification(SQLModel, table=True):
    """Every BootNotification as received, all fields."""

    __tablename__ = "boot_notification"

    id: int | None = Field(default=None, primary_key=True)
    charge_point_id: str = Field(foreign_key="charge_point.id", index=True, max_length=48)
    payload: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    status: str = Field(max_length=10)
    received_at: datetime = created_column()


class Connector(SQLModel, table=True):
    """Live state per connector; connector 0 is the charge point as a whole."""

    __tablename__ = "connector"
    __table_args__ = (UniqueConstraint("charge_point_id", "connector_id"),)

    id: int | None = Field(default=None, primary_key=True)
    charge_point_id: str = Field(foreign_key="charge_point.id", index=True, max_length=48)
    connector_id: int
    status: str | None = Field(default=None, max_length=20)
    error_code: str | None = Field(default=None, max_length=30)
    info: str | None = Field(default=None, max_length=50)
    vendor_id: str | None = Field(default=None, max_length=255)
    vendor_error_code: str | None = Field(default=None, max_length=50)
    status_at: datetime | None = tz_column()
    phases: int = Field(default=3)
    nominal_voltage_v: float = Field(default=230.0)
    max_current_a: float = Field(default=32.0)


class StatusNotification(SQLModel, table=True):
    """Full history of StatusNotification, including connector 0."""

    __tablename__ = "status_notification"

    id: int | None = Field(default=None, primary_key=True)
    charge_point_id: str = Field(foreign_key="charge_point.id", index=True, max_length=48)
    connector_id: int
    status: str = Field(max_length=20)
    error_code: str = Field(max_length=30)
    info: str | None = Field(default=None, max_length=50)
    vendor_id: str | None = Field(default=None, max_length=255)
    vendor_error_code: str | None = Field(default=None, max_length=50)
    timestamp: datetime | None = tz_column()
    received_at: datetime = created_column()


class IdTag(SQLModel, table=True):
    __tablename__ = "id_tag"

    id_tag: str = Field(primary_key=True, max_length=20)
    parent_id_tag: str | None = Field(default=None, max_length=20)
    expiry_date: datetime | None = tz_column()
    blocked: bool = Field(default=False)
    max_active_transactions: int = Field(default=1, ge=0)
    note: str | None = Field(default=None, max_length=500)
    created_at: datetime = created_column()


class Transaction(SQLModel, table=True):
    __tablename__ = "transaction"
    __table_args__ = (
        UniqueConstraint(
            "charge_point_id",
            "connector_id",
            "id_tag",
            "start_timestamp",
            "meter_start_wh",
            name="uq_tx_start",
        ),
        Index("ix_tx_active", "charge_point_id", "stop_timestamp"),
    )

    id: int | None = Field(default=None, primary_key=True)
    charge_point_id: str = Field(foreign_key="charge_point.id", index=True, max_length=48)
    connector_id: int
    id_tag: str = Field(index=True, max_length=20)
    id_tag_status: str = Field(default="Accepted", max_length=20)
    start_timestamp: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))
    meter_start_wh: int = Field(sa_column=Column(BigInteger, nullable=False))
    reservation_id: int | None = None
    start_received_at: datetime = created_column()
    stop_timestamp: datetime | None = tz_column()
    meter_stop_wh: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    stop_reason: str | None = Field(default=None, max_length=20)
    stop_id_tag: str | None = Field(default=None, max_length=20)
    stop_received_at: datetime | None = tz_column()


class MeterValue(SQLModel, table=True):
    """One sampledValue: raw as received, plus the value normalised to W, Wh, A, V (or the raw unit)."""

    __tablename__ = "meter_value"
    __table_args__ = (Index("ix_mv_tx_time", "transaction_id", "timestamp"),)

    id: int | None = Field(default=None, primary_key=True)
    charge_point_id: str = Field(foreign_key="charge_point.id", index=True, max_length=48)
    connector_id: int
    transaction_id: int | None = Field(default=None, foreign_key="transaction.id")
    timestamp: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))
    value: str
    context: str = Field(default="Sample.Periodic", max_length=30)
    format: str = Field(default="Raw", max_length=20)
    measurand: str = Field(default="Energy.Active.Import.Register", max_length=50)
    phase: str | None = Field(default=None, max_length=10)
    location: str = Field(default="Outlet", max_length=10)
    unit: str = Field(default="Wh", max_length=20)
    value_normalised: float | None = None
    unit_normalised: str | None = Field(default=None, max_length=20)
    source: str = Field(default="MeterValues", max_length=20)
    dedup_key: str = Field(max_length=64, unique=True)
    received_at: datetime = created_column()


class DataTransferRecord(SQLModel, table=True):
    __tablename__ = "data_transfer"

    id: int | None = Field(default=None, primary_key=True)
    charge_point_id: str = Field(foreign_key="charge_point.id", index=True, max_length=48)
    direction: str = Field(max_length=10)  # "inbound" | "outbound"
    vendor_id: str = Field(max_length=255)
    message_id: str | None = Field(default=None, max_length=50)
    data: str | None = None
    status: str | None = Field(default=None, max_length=20)
    received_at: datetime = created_column()


class ChargePointConfiguration(SQLModel, table=True):
    """Configuration keys as last read with GetConfiguration (or set with ChangeConfiguration)."""

    __tablename__ = "charge_point_configuration"
    __table_args__ = (UniqueConstraint("charge_point_id", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    charge_point_id: str = Field(foreign_key="charge_point.id", index=True, max_length=48)
    key: str = Field(max_length=50)
    value: str | None = Field(default=None, max_length=500)
    readonly: bool = Field(default=False)
    updated_at: datetime = created_column()


class Command(SQLModel, table=True):
    """A central-system operation sent to a charge point, with its outcome (the "task" view)."""

    __tablename__ = "command"

    id: int | None = Field(default=None, primary_key=True)
    charge_point_id: str = Field(foreign_key="charge_point.id", index=True, max_length=48)
    action: str = Field(max_length=40)
    payload: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    status: str = Field(default="pending", max_length=10, index=True)
    response: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    error_code: str | None = Field(default=None, max_length=40)
    error_description: str | None = None
    author: str | None = Field(default=None, max_length=100)
    created_at: datetime = created_column()
    sent_at: datetime | None = tz_column()
    completed_at: datetime | None = tz_column()


class Reservation(SQLModel, table=True):
    __tablename__ = "reservation"

    id: int | None = Field(default=None, primary_key=True)  # the OCPP reservationId
    charge_point_id: str = Field(foreign_key="charge_point.id", index=True, max_length=48)
    connector_id: int
    id_tag: str = Field(max_length=20)
    parent_id_tag: str | None = Field(default=None, max_length=20)
    expiry_date: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    status: str = Field(default="requested", max_length=10)
    transaction_id: int | None = None
    command_id: int | None = None
    created_at: datetime = created_column()
