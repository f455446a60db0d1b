"""Repositories of the central system."""

from app.db.repositories.ocpp.charge_points import SqlChargePointRepository
from app.db.repositories.ocpp.commands import (
    SqlCommandRepository,
    SqlDataTransferRepository,
    SqlReservationRepository,
)
from app.db.repositories.ocpp.drivers import SqlDriverRepository
from app.db.repositories.ocpp.id_tags import SqlIdTagRepository
from app.db.repositories.ocpp.meter_values import SqlMeterValueRepository
from app.db.repositories.ocpp.security import SqlSecurityRepository
from app.db.repositories.ocpp.status import SqlStatusRepository
from app.db.repositories.ocpp.transactions import SqlTransactionRepository

__all__ = [
    "SqlChargePointRepository",
    "SqlCommandRepository",
    "SqlDataTransferRepository",
    "SqlDriverRepository",
    "SqlIdTagRepository",
    "SqlMeterValueRepository",
    "SqlReservationRepository",
    "SqlSecurityRepository",
    "SqlStatusRepository",
    "SqlTransactionRepository",
]
