"""What a charge point reported about itself: connectors with their live status, configuration keys, status
and boot history."""

from datetime import datetime

from app.domain.ocpp import BootNotification, ChargePointConfiguration, Connector, StatusNotification
from app.domain.paging import Found, Window
from app.domain.persistence import UnitOfWork


async def list_connectors(uow: UnitOfWork, charge_point_id: str, window: Window) -> Found[Connector]:
    return await uow.charge_points.connectors(charge_point_id, window)


async def list_configuration(
    uow: UnitOfWork, charge_point_id: str, window: Window
) -> Found[ChargePointConfiguration]:
    return await uow.charge_points.configuration(charge_point_id, window)


async def list_status_history(
    uow: UnitOfWork,
    charge_point_id: str,
    window: Window,
    *,
    connector_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Found[StatusNotification]:
    """Newest first, by the time the charge point reported (received time when it gave none)."""
    return await uow.charge_points.status_history(
        charge_point_id, window, connector_id=connector_id, since=since, until=until
    )


async def list_boot_notifications(
    uow: UnitOfWork, charge_point_id: str, window: Window
) -> Found[BootNotification]:
    return await uow.charge_points.boot_notifications(charge_point_id, window)
