"""Repository of the security extension's records. Lists come newest first."""

from typing import Protocol

from app.domain.paging import Found, Window
from app.domain.security import (
    CertificateFilter,
    InstalledCertificate,
    InstalledCertificateFilter,
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

    async def replace_installed(
        self, charge_point_id: str, certificate_type: str, certificates: list[InstalledCertificate]
    ) -> None:
        """The charge point's certificates of `certificate_type` are now `certificates`."""
        ...

    async def remove_installed(
        self, charge_point_id: str, *, serial_number: str, issuer_name_hash: str, issuer_key_hash: str
    ) -> None: ...

    async def installed(
        self, window: Window, filters: InstalledCertificateFilter
    ) -> Found[InstalledCertificate]: ...
