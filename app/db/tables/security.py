"""Tables of the security extension; each maps its entity in `app.domain.security`."""

from sqlalchemy import Boolean, Column, ForeignKey, Index, Integer, String, Table, Text

from app.db.tables.base import mapper_registry, metadata
from app.db.types import UTCDateTime
from app.domain.security import InstalledCertificate, IssuedCertificate, OperationStatus, SecurityEvent

security_event_table = Table(
    "security_event",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("charge_point_id", String(48), ForeignKey("charge_point.id"), nullable=False),
    Column("type", String(50), nullable=False),
    Column("timestamp", UTCDateTime(), nullable=False),
    Column("tech_info", String(255), nullable=True),
    Column("critical", Boolean, nullable=False, default=False),
    Column("received_at", UTCDateTime(), nullable=False),
    Index("ix_security_event_cp_time", "charge_point_id", "timestamp"),
    Index("ix_security_event_time", "timestamp"),
)


operation_status_table = Table(
    "operation_status",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("charge_point_id", String(48), ForeignKey("charge_point.id"), nullable=False, index=True),
    Column("operation", String(30), nullable=False),
    Column("status", String(40), nullable=False),
    Column("request_id", Integer, nullable=True),
    Column("received_at", UTCDateTime(), nullable=False),
)


issued_certificate_table = Table(
    "issued_certificate",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("charge_point_id", String(48), ForeignKey("charge_point.id"), nullable=False, index=True),
    Column("serial_number", String(64), nullable=False, unique=True),
    Column("subject", String(500), nullable=False),
    Column("not_before", UTCDateTime(), nullable=False),
    Column("not_after", UTCDateTime(), nullable=False),
    Column("certificate_pem", Text, nullable=False),
    Column("command_id", Integer, nullable=True),
    Column("issued_at", UTCDateTime(), nullable=False),
)


installed_certificate_table = Table(
    "installed_certificate",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("charge_point_id", String(48), ForeignKey("charge_point.id"), nullable=False),
    Column("certificate_type", String(40), nullable=False),
    Column("hash_algorithm", String(10), nullable=False),
    Column("issuer_name_hash", String(128), nullable=False),
    Column("issuer_key_hash", String(128), nullable=False),
    Column("serial_number", String(40), nullable=False),
    Column("subject", String(500), nullable=True),
    Column("not_after", UTCDateTime(), nullable=True),
    Column("reported_at", UTCDateTime(), nullable=False),
    Index("ix_installed_certificate_cp_type", "charge_point_id", "certificate_type"),
)


mapper_registry.map_imperatively(SecurityEvent, security_event_table)
mapper_registry.map_imperatively(OperationStatus, operation_status_table)
mapper_registry.map_imperatively(IssuedCertificate, issued_certificate_table)
mapper_registry.map_imperatively(InstalledCertificate, installed_certificate_table)
