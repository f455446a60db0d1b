"""Charge point use cases of the gateway: handshake look-up, boot, heartbeat, status, connection state.

Each function is one step inside the caller's unit of work (an `AsyncSession` that commits on exit).
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.sql import execute_insert_ignore, insert_many, update_many, update_many_changed
from app.db.tables.ocpp import charge_point_configuration_table, charge_point_table
from app.domain.enums import RegistrationStatus
from app.domain.ocpp import (
    BootNotification,
    ChargePoint,
    ChargePointConfiguration,
    Connector,
    StatusNotification,
)

BOOT_FIELDS = {
    "chargePointVendor": "vendor",
    "chargePointModel": "model",
    "chargePointSerialNumber": "serial_number",
    "chargeBoxSerialNumber": "box_serial_number",
    "firmwareVersion": "firmware_version",
    "iccid": "iccid",
    "imsi": "imsi",
    "meterType": "meter_type",
    "meterSerialNumber": "meter_serial_number",
}


@dataclass(frozen=True)
class Credentials:
    """What the handshake needs to know about a charge point."""

    charge_point_id: str
    password_hash: str | None
    registration_status: str


@dataclass(frozen=True)
class StatusReport:
    connector_id: int
    status: str
    error_code: str
    timestamp: datetime
    info: str | None = None
    vendor_id: str | None = None
    vendor_error_code: str | None = None


async def credentials(session: AsyncSession, charge_point_id: str) -> Credentials | None:
    row = await session.get(ChargePoint, charge_point_id)
    if row is None:
        return None
    return Credentials(row.id, row.password_hash, row.registration_status)


async def credentials_many(session: AsyncSession, charge_point_ids: list[str]) -> list[Credentials | None]:
    """`credentials` for many handshakes in one SELECT."""
    rows = await session.exec(select(ChargePoint).where(charge_point_table.c.id.in_(set(charge_point_ids))))
    found = {row.id: Credentials(row.id, row.password_hash, row.registration_status) for row in rows}
    return [found.get(cp_id) for cp_id in charge_point_ids]


async def set_connected_many(session: AsyncSession, changes: list[tuple[str, bool, datetime]]) -> list[None]:
    """`mark_connected` / `mark_disconnected` for many charge points, in the given order."""
    rows = [
        {
            "id": cp_id,
            "connected": connected,
            "connected_since": at if connected else None,
            "last_seen_at": at,
        }
        for cp_id, connected, at in changes
    ]
    await update_many(session, ChargePoint, ["id"], rows)
    return [None] * len(changes)


async def ensure_charge_point(
    session: AsyncSession, charge_point_id: str, registration_status: RegistrationStatus, now: datetime
) -> None:
    """Create the charge point unless it exists; safe when many first connects race."""
    row = {"id": charge_point_id, "registration_status": registration_status.value, "created_at": now}
    await execute_insert_ignore(session, ChargePoint, [row], ["id"])


async def mark_connected(session: AsyncSession, charge_point_id: str, now: datetime) -> None:
    await session.exec(
        update(ChargePoint)
        .where(charge_point_table.c.id == charge_point_id)
        .values(connected=True, connected_since=now, last_seen_at=now)
    )


async def mark_disconnected(session: AsyncSession, charge_point_id: str, now: datetime) -> None:
    await session.exec(
        update(ChargePoint)
        .where(charge_point_table.c.id == charge_point_id)
        .values(connected=False, connected_since=None, last_seen_at=now)
    )


async def mark_all_disconnected(session: AsyncSession, now: datetime) -> None:
    """At gateway start nobody is connected yet (a crash may have left `connected` set)."""
    await session.exec(
        update(ChargePoint)
        .where(charge_point_table.c.connected)
        .values(connected=False, connected_since=None)
    )


async def touch_many(session: AsyncSession, seen: list[tuple[str, datetime]]) -> list[None]:
    """Note when charge points were last seen, many in one statement."""
    await update_many(session, ChargePoint, ["id"], [{"id": cp_id, "last_seen_at": at} for cp_id, at in seen])
    return [None] * len(seen)


async def record_heartbeats(session: AsyncSession, beats: list[tuple[str, datetime]]) -> list[None]:
    """Heartbeats of many charge points in one statement."""
    await update_many(
        session,
        ChargePoint,
        ["id"],
        [{"id": cp_id, "last_heartbeat_at": at, "last_seen_at": at} for cp_id, at in beats],
    )
    return [None] * len(beats)


@dataclass(frozen=True)
class Boot:
    charge_point_id: str
    payload: Mapping[str, Any]
    now: datetime


async def record_boots(session: AsyncSession, boots: list[Boot]) -> list[RegistrationStatus]:
    """Store every field of each BootNotification (and a history row) and answer the operator's decision
    (Rejected for an unknown charge point): one SELECT, one UPDATE, one INSERT."""
    ids = {boot.charge_point_id for boot in boots}
    found = await session.exec(
        select(charge_point_table.c.id, charge_point_table.c.registration_status).where(
            charge_point_table.c.id.in_(ids)
        )
    )
    known = {cp_id: RegistrationStatus(status) for cp_id, status in found}
    answers = [known.get(boot.charge_point_id, RegistrationStatus.rejected) for boot in boots]
    stored = [
        (boot, status) for boot, status in zip(boots, answers, strict=True) if boot.charge_point_id in known
    ]
    if not stored:
        return answers
    fields = [
        {"id": boot.charge_point_id, "last_boot_at": boot.now, "last_seen_at": boot.now}
        | {attribute: boot.payload.get(field) for field, attribute in BOOT_FIELDS.items()}
        for boot, _ in stored
    ]
    await update_many(session, ChargePoint, ["id"], fields)
    rows = [
        {
            "charge_point_id": boot.charge_point_id,
            "payload": dict(boot.payload),
            "status": status.value,
            "received_at": boot.now,
        }
        for boot, status in stored
    ]
    await insert_many(session, BootNotification, rows)
    return answers


async def record_statuses(
    session: AsyncSession, reports: list[tuple[str, StatusReport, datetime]]
) -> list[bool]:
    """Append each (charge point, report, now) to the status history; update the live connector unless it
    holds a newer status. Returns, per report, whether the live state changed (a queued, older report only
    lands in the history). A timestamp ahead of `now` (a charge point clock running fast) orders as `now`,
    so that it cannot block every later report. History, connectors and live states take one statement
    each (live states one more for each further report of a connector in the same batch)."""
    await insert_many(
        session,
        StatusNotification,
        [
            _reported(cp_id, report) | {"timestamp": report.timestamp, "received_at": now}
            for cp_id, report, now in reports
        ],
    )
    connectors = {(cp_id, report.connector_id) for cp_id, report, _ in reports}
    await execute_insert_ignore(
        session,
        Connector,
        [
            {"charge_point_id": cp_id, "connector_id": connector_id}
            for cp_id, connector_id in sorted(connectors)
        ],
        ["charge_point_id", "connector_id"],
    )
    return await update_many_changed(
        session,
        Connector,
        ["charge_point_id", "connector_id"],
        [
            _reported(cp_id, report) | {"status_at": min(report.timestamp, now)}
            for cp_id, report, now in reports
        ],
        unless_newer="status_at",
    )


def _reported(cp_id: str, report: StatusReport) -> dict[str, Any]:
    """What a status report says of its connector: the columns history and live state share."""
    return {
        "charge_point_id": cp_id,
        "connector_id": report.connector_id,
        "status": report.status,
        "error_code": report.error_code,
        "info": report.info,
        "vendor_id": report.vendor_id,
        "vendor_error_code": report.vendor_error_code,
    }


async def record_diagnostics_status(
    session: AsyncSession, charge_point_id: str, status: str, now: datetime
) -> None:
    await session.exec(
        update(ChargePoint)
        .where(charge_point_table.c.id == charge_point_id)
        .values(diagnostics_status=status, diagnostics_status_at=now, last_seen_at=now)
    )


async def record_firmware_status(
    session: AsyncSession, charge_point_id: str, status: str, now: datetime
) -> None:
    await session.exec(
        update(ChargePoint)
        .where(charge_point_table.c.id == charge_point_id)
        .values(firmware_status=status, firmware_status_at=now, last_seen_at=now)
    )


async def store_configuration(
    session: AsyncSession,
    charge_point_id: str,
    keys: Iterable[Mapping[str, Any]],
    now: datetime,
) -> None:
    """Store GetConfiguration's `configurationKey` entries (key, value, readonly) as the latest state."""
    for entry in keys:
        await set_configuration(
            session, charge_point_id, entry["key"], entry.get("value"), now, readonly=entry.get("readonly")
        )


async def set_configuration(
    session: AsyncSession,
    charge_point_id: str,
    key: str,
    value: str | None,
    now: datetime,
    *,
    readonly: bool | None = None,
) -> None:
    await execute_insert_ignore(
        session,
        ChargePointConfiguration,
        [{"charge_point_id": charge_point_id, "key": key, "updated_at": now}],
        ["charge_point_id", "key"],
    )
    values: dict[str, Any] = {"value": value, "updated_at": now}
    if readonly is not None:
        values["readonly"] = readonly
    await session.exec(
        update(ChargePointConfiguration)
        .where(
            charge_point_configuration_table.c.charge_point_id == charge_point_id,
            charge_point_configuration_table.c.key == key,
        )
        .values(**values)
    )


async def configuration(session: AsyncSession, charge_point_id: str) -> dict[str, str | None]:
    rows = await session.exec(
        select(ChargePointConfiguration).where(
            charge_point_configuration_table.c.charge_point_id == charge_point_id
        )
    )
    return {row.key: row.value for row in rows}


async def configuration_many(
    session: AsyncSession, charge_point_ids: list[str]
) -> list[dict[str, str | None]]:
    """`configuration` of many charge points in one SELECT of plain rows (no ORM objects)."""
    table = charge_point_configuration_table.c
    rows = await session.exec(
        select(table.charge_point_id, table.key, table.value).where(
            table.charge_point_id.in_(set(charge_point_ids))
        )
    )
    found: dict[str, dict[str, str | None]] = {}
    for charge_point_id, key, value in rows:
        found.setdefault(charge_point_id, {})[key] = value
    return [dict(found.get(cp_id, {})) for cp_id in charge_point_ids]


async def set_local_list_version(session: AsyncSession, charge_point_id: str, version: int) -> None:
    await session.exec(
        update(ChargePoint)
        .where(charge_point_table.c.id == charge_point_id)
        .values(local_list_version=version)
    )
