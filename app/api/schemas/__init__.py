"""Request and response shapes of the HTTP API, each declared once."""

from app.api.schemas.api_keys import ApiKeyCreate, ApiKeyCreated, ApiKeyOut
from app.api.schemas.charge_points import (
    BootNotificationOut,
    ChargePointCreate,
    ChargePointOut,
    ChargePointUpdate,
    ConfigurationKeyOut,
    ConnectorOut,
    ConnectorUpdate,
    StatusNotificationOut,
)
from app.api.schemas.commands import CommandCreate, CommandOut
from app.api.schemas.common import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    Health,
    Page,
    ProblemDetail,
    UtcDatetime,
    as_utc,
    problems,
)
from app.api.schemas.id_tags import IdTagCreate, IdTagOut, IdTagUpdate
from app.api.schemas.reservations import ReservationOut
from app.api.schemas.status import HeartbeatCounts, StatusSummary
from app.api.schemas.transactions import MeterValueOut, TransactionDetail, TransactionOut

__all__ = [
    "DEFAULT_LIMIT",
    "MAX_LIMIT",
    "ApiKeyCreate",
    "ApiKeyCreated",
    "ApiKeyOut",
    "BootNotificationOut",
    "ChargePointCreate",
    "ChargePointOut",
    "ChargePointUpdate",
    "CommandCreate",
    "CommandOut",
    "ConfigurationKeyOut",
    "ConnectorOut",
    "ConnectorUpdate",
    "Health",
    "HeartbeatCounts",
    "IdTagCreate",
    "IdTagOut",
    "IdTagUpdate",
    "MeterValueOut",
    "Page",
    "ProblemDetail",
    "ReservationOut",
    "StatusNotificationOut",
    "StatusSummary",
    "TransactionDetail",
    "TransactionOut",
    "UtcDatetime",
    "as_utc",
    "problems",
]
