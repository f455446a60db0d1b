"""The security extension's records: security events, log uploads and signed firmware updates as charge
points report them, the charge-point certificates the central system issued, and the certificates charge
points report installed. Operators (and admins)
only: these say where a charge point is weak."""

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from app.api.deps import OperatorDep, UowDep
from app.api.schemas import Page, problems
from app.api.schemas.security import (
    CertificateOut,
    InstalledCertificateOut,
    OperationStatusOut,
    SecurityEventOut,
)
from app.api.support import ScopeDep, Since, Until, WindowDep, operation_id, paged, time_range, utc
from app.domain.security import (
    CertificateFilter,
    InstalledCertificateFilter,
    OperationStatusFilter,
    SecurityEventFilter,
)
from app.services.ocpp import installed_certificates, security

router = APIRouter(
    tags=["security"], responses=problems(401, 403, 422), generate_unique_id_function=operation_id
)


@router.get("/security-events", summary="SecurityEventNotifications, newest first (by when they happened)")
async def list_security_events(
    uow: UowDep,
    _: OperatorDep,
    scope: ScopeDep,
    window: WindowDep,
    charge_point_id: str | None = None,
    type: Annotated[str | None, Query(max_length=50, description="e.g. TamperDetectionActivated")] = None,
    critical: Annotated[bool | None, Query(description="only critical (or only non-critical) events")] = None,
    since: Since = None,
    until: Until = None,
) -> Page[SecurityEventOut]:
    since, until = time_range(since, until)
    filters = SecurityEventFilter(charge_point_id, type, critical, since, until, scope)
    found = await security.list_security_events(uow, window, filters)
    return paged([SecurityEventOut.model_validate(row) for row in found.items], found, window)


@router.get(
    "/operation-status",
    summary="LogStatusNotifications and SignedFirmwareStatusNotifications, newest first",
)
async def list_operation_status(
    uow: UowDep,
    _: OperatorDep,
    scope: ScopeDep,
    window: WindowDep,
    charge_point_id: str | None = None,
    operation: Literal["GetLog", "SignedUpdateFirmware"] | None = None,
    request_id: int | None = None,
) -> Page[OperationStatusOut]:
    filters = OperationStatusFilter(charge_point_id, operation, request_id, scope)
    found = await security.list_operation_statuses(uow, window, filters)
    return paged([OperationStatusOut.model_validate(row) for row in found.items], found, window)


@router.get("/certificates", summary="Charge-point certificates issued (SignCertificate), newest first")
async def list_certificates(
    uow: UowDep,
    _: OperatorDep,
    scope: ScopeDep,
    window: WindowDep,
    charge_point_id: str | None = None,
    valid_at: Annotated[
        datetime | None, Query(description="only those valid at this time (ISO 8601; without offset: UTC)")
    ] = None,
) -> Page[CertificateOut]:
    filters = CertificateFilter(charge_point_id, utc(valid_at), scope)
    found = await security.list_certificates(uow, window, filters)
    return paged([CertificateOut.model_validate(row) for row in found.items], found, window)


@router.get(
    "/installed-certificates",
    summary="Certificates charge points report installed (GetInstalledCertificateIds)",
)
async def list_installed_certificates(
    uow: UowDep,
    _: OperatorDep,
    scope: ScopeDep,
    window: WindowDep,
    charge_point_id: str | None = None,
    certificate_type: Literal["CentralSystemRootCertificate", "ManufacturerRootCertificate"] | None = None,
) -> Page[InstalledCertificateOut]:
    filters = InstalledCertificateFilter(charge_point_id, certificate_type, scope)
    found = await installed_certificates.list_installed(uow, window, filters)
    return paged([InstalledCertificateOut.model_validate(row) for row in found.items], found, window)
