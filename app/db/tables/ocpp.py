"""Tables of the central system; each maps its entity in `app.domain.ocpp`."""

from sqlalchemy import (
    DDL,
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    UniqueConstraint,
    event,
)

from app.db import partitions
from app.db.tables.base import mapper_registry, metadata
from app.db.types import UTCDateTime
from app.domain.ocpp import (
    BootNotification,
    ChargePoint,
    ChargePointConfiguration,
    Command,
    Connector,
    DataTransfer,
    Driver,
    IdTag,
    MeterValue,
    Reservation,
    StatusNotification,
    Transaction,
)

charge_point_table = Table(
    "charge_point",
    metadata,
    Column("id", String(48), primary_key=True),
    Column("description", String(500), nullable=True),
    Column("password_hash", String(200), nullable=True),
    Column("security_profile", Integer, nullable=False, server_default="0"),
    Column("registration_status", String(10), nullable=False, default="Accepted"),
    Column("vendor", String(20), nullable=True),
    Column("model", String(20), nullable=True),
    Column("serial_number", String(25), nullable=True),
    Column("box_serial_number", String(25), nullable=True),
    Column("firmware_version", String(50), nullable=True),
    Column("iccid", String(20), nullable=True),
    Column("imsi", String(20), nullable=True),
    Column("meter_type", String(25), nullable=True),
    Column("meter_serial_number", String(25), nullable=True),
    Column("last_boot_at", UTCDateTime(), nullable=True),
    Column("last_heartbeat_at", UTCDateTime(), nullable=True),
    Column("last_seen_at", UTCDateTime(), nullable=True),
    Column("connected", Boolean, nullable=False, default=False),
    Column("connected_since", UTCDateTime(), nullable=True),
    Column("diagnostics_status", String(20), nullable=True),
    Column("diagnostics_status_at", UTCDateTime(), nullable=True),
    Column("firmware_status", String(30), nullable=True),
    Column("firmware_status_at", UTCDateTime(), nullable=True),
    Column("local_list_version", Integer, nullable=True),
    Column("min_current_a", Float, nullable=True),
    Column("site_id", Integer, ForeignKey("site.id"), nullable=True, index=True),
    Column("group_id", Integer, ForeignKey("site_group.id"), nullable=True, index=True),
    Column("created_at", UTCDateTime(), nullable=False),
)


boot_notification_table = Table(
    "boot_notification",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("charge_point_id", String(48), ForeignKey("charge_point.id"), nullable=False, index=True),
    Column("payload", JSON, nullable=False),
    Column("status", String(10), nullable=False),
    Column("received_at", UTCDateTime(), nullable=False),
)


connector_table = Table(
    "connector",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("charge_point_id", String(48), ForeignKey("charge_point.id"), nullable=False, index=True),
    Column("connector_id", Integer, nullable=False),
    Column("status", String(20), nullable=True),
    Column("error_code", String(30), nullable=True),
    Column("info", String(50), nullable=True),
    Column("vendor_id", String(255), nullable=True),
    Column("vendor_error_code", String(50), nullable=True),
    Column("status_at", UTCDateTime(), nullable=True),
    Column("phases", Integer, nullable=False, default=3),
    Column("nominal_voltage_v", Float, nullable=False, default=230.0),
    Column("max_current_a", Float, nullable=False, default=32.0),
    Column("min_current_a", Float, nullable=True),
    UniqueConstraint("charge_point_id", "connector_id"),
)


status_notification_table = Table(
    "status_notification",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("charge_point_id", String(48), ForeignKey("charge_point.id"), nullable=False, index=True),
    Column("connector_id", Integer, nullable=False),
    Column("status", String(20), nullable=False),
    Column("error_code", String(30), nullable=False),
    Column("info", String(50), nullable=True),
    Column("vendor_id", String(255), nullable=True),
    Column("vendor_error_code", String(50), nullable=True),
    Column("timestamp", UTCDateTime(), nullable=True),
    Column("received_at", UTCDateTime(), nullable=False),
)


driver_table = Table(
    "driver",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("email", String(254), nullable=True),
    Column("phone", String(40), nullable=True),
    Column("note", String(500), nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
)


id_tag_table = Table(
    "id_tag",
    metadata,
    Column("id_tag", String(20), primary_key=True),
    Column("parent_id_tag", String(20), nullable=True),
    Column("expiry_date", UTCDateTime(), nullable=True),
    Column("blocked", Boolean, nullable=False, default=False),
    Column("max_active_transactions", Integer, nullable=False, default=1),
    Column("note", String(500), nullable=True),
    Column("driver_id", Integer, ForeignKey("driver.id"), nullable=True, index=True),
    Column("created_at", UTCDateTime(), nullable=False),
)


transaction_table = Table(
    "transaction",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("charge_point_id", String(48), ForeignKey("charge_point.id"), nullable=False, index=True),
    Column("connector_id", Integer, nullable=False),
    Column("id_tag", String(20), nullable=False, index=True),
    Column("id_tag_status", String(20), nullable=False, default="Accepted"),
    Column("start_timestamp", UTCDateTime(), nullable=False, index=True),
    Column("meter_start_wh", BigInteger, nullable=False),
    Column("reservation_id", Integer, nullable=True),
    Column("start_received_at", UTCDateTime(), nullable=False),
    Column("stop_timestamp", UTCDateTime(), nullable=True),
    Column("meter_stop_wh", BigInteger, nullable=True),
    Column("stop_reason", String(20), nullable=True),
    Column("stop_id_tag", String(20), nullable=True),
    Column("stop_received_at", UTCDateTime(), nullable=True),
    UniqueConstraint(
        "charge_point_id", "connector_id", "id_tag", "start_timestamp", "meter_start_wh", name="uq_tx_start"
    ),
    Index("ix_tx_active", "charge_point_id", "stop_timestamp"),
)


meter_value_table = Table(
    "meter_value",
    metadata,
    Column("id", Integer, nullable=False),
    Column("charge_point_id", String(48), ForeignKey("charge_point.id"), nullable=False),
    Column("connector_id", Integer, nullable=False),
    Column("transaction_id", Integer, ForeignKey("transaction.id"), nullable=True),
    Column("timestamp", UTCDateTime(), nullable=False, index=True),
    Column("value", String, nullable=False),
    Column("context", String(30), nullable=False, default="Sample.Periodic"),
    Column("format", String(20), nullable=False, default="Raw"),
    Column("measurand", String(50), nullable=False, default="Energy.Active.Import.Register"),
    Column("phase", String(10), nullable=True),
    Column("location", String(10), nullable=False, default="Outlet"),
    Column("unit", String(20), nullable=False, default="Wh"),
    Column("value_normalised", Float, nullable=True),
    Column("unit_normalised", String(20), nullable=True),
    Column("source", String(20), nullable=False, default="MeterValues"),
    Column("dedup_key", String(64), nullable=False),
    Column("received_at", UTCDateTime(), nullable=False),
    # PostgreSQL partitions the table by month of `timestamp` (app/db/partitions.py), and a partitioned
    # table's keys hold the partition key: its primary key is (id, timestamp), added after the table
    # (`partitions.POSTGRESQL_DDL`); SQLite's is `id`, the rowid. The dedup key starts with the sample's time,
    # so (dedup_key, timestamp) is as unique as the key alone.
    PrimaryKeyConstraint("id", name="meter_value_pkey").ddl_if(dialect="sqlite"),
    UniqueConstraint("dedup_key", "timestamp", name="uq_meter_value_dedup_key"),
    Index("ix_mv_cp_time", "charge_point_id", "timestamp"),  # one charge point's day: a range of it
    Index("ix_mv_tx_time", "transaction_id", "timestamp"),
    postgresql_partition_by='RANGE ("timestamp")',
)
for _statement in partitions.POSTGRESQL_DDL:
    _ddl = DDL(_statement)  # type: ignore[no-untyped-call]  # SQLAlchemy's DDL() is not annotated
    event.listen(meter_value_table, "after_create", _ddl.execute_if(dialect="postgresql"))


data_transfer_table = Table(
    "data_transfer",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("charge_point_id", String(48), ForeignKey("charge_point.id"), nullable=False, index=True),
    Column("direction", String(10), nullable=False),
    Column("vendor_id", String(255), nullable=False),
    Column("message_id", String(50), nullable=True),
    Column("data", String, nullable=True),
    Column("status", String(20), nullable=True),
    Column("received_at", UTCDateTime(), nullable=False),
)


charge_point_configuration_table = Table(
    "charge_point_configuration",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("charge_point_id", String(48), ForeignKey("charge_point.id"), nullable=False, index=True),
    Column("key", String(50), nullable=False),
    Column("value", String(500), nullable=True),
    Column("readonly", Boolean, nullable=False, default=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    UniqueConstraint("charge_point_id", "key"),
)


command_table = Table(
    "command",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("charge_point_id", String(48), ForeignKey("charge_point.id"), nullable=False, index=True),
    Column("action", String(40), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("status", String(10), nullable=False, default="pending", index=True),
    Column("response", JSON, nullable=True),
    Column("error_code", String(40), nullable=True),
    Column("error_description", String, nullable=True),
    Column("author", String(100), nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("sent_at", UTCDateTime(), nullable=True),
    Column("completed_at", UTCDateTime(), nullable=True),
)


reservation_table = Table(
    "reservation",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("charge_point_id", String(48), ForeignKey("charge_point.id"), nullable=False, index=True),
    Column("connector_id", Integer, nullable=False),
    Column("id_tag", String(20), nullable=False),
    Column("parent_id_tag", String(20), nullable=True),
    Column("expiry_date", UTCDateTime(), nullable=False),
    Column("status", String(10), nullable=False, default="requested"),
    Column("transaction_id", Integer, nullable=True),
    Column("command_id", Integer, nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
)


mapper_registry.map_imperatively(ChargePoint, charge_point_table)
mapper_registry.map_imperatively(BootNotification, boot_notification_table)
mapper_registry.map_imperatively(Connector, connector_table)
mapper_registry.map_imperatively(StatusNotification, status_notification_table)
mapper_registry.map_imperatively(Driver, driver_table)
mapper_registry.map_imperatively(IdTag, id_tag_table)
mapper_registry.map_imperatively(Transaction, transaction_table)
mapper_registry.map_imperatively(MeterValue, meter_value_table)
mapper_registry.map_imperatively(DataTransfer, data_transfer_table)
mapper_registry.map_imperatively(ChargePointConfiguration, charge_point_configuration_table)
mapper_registry.map_imperatively(Command, command_table)
mapper_registry.map_imperatively(Reservation, reservation_table)
