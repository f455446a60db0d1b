"""What charge points report under the security extension: security events, and the progress of a log
upload (LogStatusNotification) or a signed firmware update (SignedFirmwareStatusNotification); the read side.
"""

import logging
from datetime import datetime

from app.domain.paging import Found, Window
from app.domain.persistence import Store, UnitOfWork
from app.domain.security import (
    CertificateFilter,
    IssuedCertificate,
    OperationStatus,
    OperationStatusFilter,
    SecurityEvent,
    SecurityEventFilter,
    is_critical,
)

log = logging.getLogger(__name__)

LOG_UPLOAD, SIGNED_FIRMWARE = "GetLog", "SignedUpdateFirmware"


async def security_event(
    store: Store,
    charge_point_id: str,
    *,
    event_type: str,
    timestamp: datetime,
    tech_info: str | None,
    now: datetime,
) -> SecurityEvent:
    """Store a SecurityEventNotification; a critical one is logged as a warning too."""
    event = SecurityEvent(
        charge_point_id=charge_point_id,
        type=event_type,
        timestamp=timestamp,
        tech_info=tech_info,
        critical=is_critical(event_type),
        received_at=now,
    )

    async def add(uow: UnitOfWork) -> None:
        uow.security.add_event(event)

    await store.run(add)
    if event.critical:
        log.warning("%s: critical security event %s at %s", charge_point_id, event_type, timestamp)
    return event


async def operation_status(
    store: Store, charge_point_id: str, operation: str, status: str, request_id: int | None, now: datetime
) -> None:
    """Store a LogStatusNotification (`LOG_UPLOAD`) or a SignedFirmwareStatusNotification
    (`SIGNED_FIRMWARE`)."""
    row = OperationStatus(
        charge_point_id=charge_point_id,
        operation=operation,
        status=status,
        request_id=request_id,
        received_at=now,
    )

    async def add(uow: UnitOfWork) -> None:
        uow.security.add_operation_status(row)

    await store.run(add)


async def list_security_events(
    uow: UnitOfWork, window: Window, filters: SecurityEventFilter
) -> Found[SecurityEvent]:
    return await uow.security.events(window, filters)


async def list_operation_statuses(
    uow: UnitOfWork, window: Window, filters: OperationStatusFilter
) -> Found[OperationStatus]:
    return await uow.security.operation_statuses(window, filters)


async def list_certificates(
    uow: UnitOfWork, window: Window, filters: CertificateFilter
) -> Found[IssuedCertificate]:
    return await uow.security.certificates(window, filters)
