"""The security extension's records: security events, log and signed-firmware status, issued certificates."""

from sqlalchemy import delete
from sqlmodel import select

from app.db.repositories.base import Repository, in_scope, page
from app.db.tables.security import (
    installed_certificate_table,
    issued_certificate_table,
    operation_status_table,
    security_event_table,
)
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


class SqlSecurityRepository(Repository):
    def add_event(self, event: SecurityEvent) -> None:
        self.session.add(event)

    async def events(self, window: Window, filters: SecurityEventFilter) -> Found[SecurityEvent]:
        table = security_event_table.c
        query = (
            select(SecurityEvent)
            .where(*in_scope(table.charge_point_id, filters.scope))
            .order_by(table.timestamp.desc(), table.id.desc())
        )
        if filters.charge_point_id is not None:
            query = query.where(table.charge_point_id == filters.charge_point_id)
        if filters.type is not None:
            query = query.where(table.type == filters.type)
        if filters.critical is not None:
            query = query.where(table.critical == filters.critical)
        if filters.since is not None:
            query = query.where(table.timestamp >= filters.since)
        if filters.until is not None:
            query = query.where(table.timestamp < filters.until)
        return await page(self.session, query, window)

    def add_operation_status(self, status: OperationStatus) -> None:
        self.session.add(status)

    async def operation_statuses(
        self, window: Window, filters: OperationStatusFilter
    ) -> Found[OperationStatus]:
        table = operation_status_table.c
        query = (
            select(OperationStatus)
            .where(*in_scope(table.charge_point_id, filters.scope))
            .order_by(table.id.desc())
        )
        if filters.charge_point_id is not None:
            query = query.where(table.charge_point_id == filters.charge_point_id)
        if filters.operation is not None:
            query = query.where(table.operation == filters.operation)
        if filters.request_id is not None:
            query = query.where(table.request_id == filters.request_id)
        return await page(self.session, query, window)

    def add_certificate(self, certificate: IssuedCertificate) -> None:
        self.session.add(certificate)

    async def certificates(self, window: Window, filters: CertificateFilter) -> Found[IssuedCertificate]:
        table = issued_certificate_table.c
        query = (
            select(IssuedCertificate)
            .where(*in_scope(table.charge_point_id, filters.scope))
            .order_by(table.id.desc())
        )
        if filters.charge_point_id is not None:
            query = query.where(table.charge_point_id == filters.charge_point_id)
        if filters.valid_at is not None:
            query = query.where(table.not_before <= filters.valid_at, table.not_after > filters.valid_at)
        return await page(self.session, query, window)

    async def replace_installed(
        self, charge_point_id: str, certificate_type: str, certificates: list[InstalledCertificate]
    ) -> None:
        table = installed_certificate_table.c
        await self.session.exec(
            delete(installed_certificate_table).where(
                table.charge_point_id == charge_point_id, table.certificate_type == certificate_type
            )
        )
        self.session.add_all(certificates)

    async def remove_installed(
        self, charge_point_id: str, *, serial_number: str, issuer_name_hash: str, issuer_key_hash: str
    ) -> None:
        table = installed_certificate_table.c
        await self.session.exec(
            delete(installed_certificate_table).where(
                table.charge_point_id == charge_point_id,
                table.serial_number == serial_number,
                table.issuer_name_hash == issuer_name_hash,
                table.issuer_key_hash == issuer_key_hash,
            )
        )

    async def installed(
        self, window: Window, filters: InstalledCertificateFilter
    ) -> Found[InstalledCertificate]:
        table = installed_certificate_table.c
        query = (
            select(InstalledCertificate)
            .where(*in_scope(table.charge_point_id, filters.scope))
            .order_by(table.charge_point_id, table.certificate_type, table.id)
        )
        if filters.charge_point_id is not None:
            query = query.where(table.charge_point_id == filters.charge_point_id)
        if filters.certificate_type is not None:
            query = query.where(table.certificate_type == filters.certificate_type)
        return await page(self.session, query, window)
