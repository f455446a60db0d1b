"""Repository of the security extension's records. Lists come newest first."""

from typing import Protocol

from app.domain.paging import Found, Window
from app.domain.security import (
    CertificateFilter,
    IssuedCertificate,
    OperationStatus,
    OperationStatusFilter,
    SecurityEvent,
    SecurityEventFilter,
)


class SecurityRepository(Protocol):
    def add_event(self, event: SecurityEvent) -> None: ...

    async def events(self, window: Window, filters: SecurityEventFilter) -> Found[SecurityEvent]:
        """Newest (by the charge point's timestamp) first."""
        ...

    def add_operation_status(self, status: OperationStatus) -> None: ...

    async def operation_statuses(
        self, window: Window, filters: OperationStatusFilter
    ) -> Found[OperationStatus]: ...

    def add_certificate(self, certificate: IssuedCertificate) -> None: ...

    async def certificates(self, window: Window, filters: CertificateFilter) -> Found[IssuedCertificate]: ...
