"""The read side of the central system, one module per resource: filtered, paginated lists, the energy of
transactions, the status summary, streaming exports."""

from app.domain.queries import (
    ChargePointFilter,
    CommandFilter,
    IdTagFilter,
    IdTagView,
    MeterValueFilter,
    ReservationFilter,
    StatusSummary,
    TransactionFilter,
)
from app.services.ocpp.reporting.charge_points import connectors_of, get_charge_point, list_charge_points
from app.services.ocpp.reporting.commands import get_command, list_commands
from app.services.ocpp.reporting.connectors import (
    list_boot_notifications,
    list_configuration,
    list_connectors,
    list_status_history,
)
from app.services.ocpp.reporting.export import iter_meter_values, iter_transactions
from app.services.ocpp.reporting.id_tags import get_id_tag, list_id_tags
from app.services.ocpp.reporting.meter_values import list_meter_values
from app.services.ocpp.reporting.profiles import InstalledProfile, composite_schedules, installed_profiles
from app.services.ocpp.reporting.reservations import get_reservation, list_reservations, reservation_is_active
from app.services.ocpp.reporting.status import status_summary
from app.services.ocpp.reporting.transactions import (
    TransactionView,
    get_transaction,
    list_transactions,
    transaction_meter_values,
    transaction_profiles,
)

__all__ = [
    "ChargePointFilter",
    "CommandFilter",
    "IdTagFilter",
    "IdTagView",
    "InstalledProfile",
    "MeterValueFilter",
    "ReservationFilter",
    "StatusSummary",
    "TransactionFilter",
    "TransactionView",
    "composite_schedules",
    "connectors_of",
    "get_charge_point",
    "get_command",
    "get_id_tag",
    "get_reservation",
    "get_transaction",
    "installed_profiles",
    "iter_meter_values",
    "iter_transactions",
    "list_boot_notifications",
    "list_charge_points",
    "list_commands",
    "list_configuration",
    "list_connectors",
    "list_id_tags",
    "list_meter_values",
    "list_reservations",
    "list_status_history",
    "list_transactions",
    "reservation_is_active",
    "status_summary",
    "transaction_meter_values",
    "transaction_profiles",
]
