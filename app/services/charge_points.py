"""Charge point use cases of the gateway: handshake look-up, boot, heartbeat, status, connection state.

Each function is one step inside the caller's unit of work (an `AsyncSession` that commits on exit).
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.tables import (
    BootNotification,
    ChargePoint,
    ChargePointConfiguration,
    Connector,
    StatusNotification,
)
from app.domain.enums import RegistrationStatus
from app.services.upserts import execute_core, execute_insert_ignore, update_many

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
    rows = await session.exec(select(ChargePoint).where(col(ChargePoint.id).in_(set(charge_point_ids))))
    found = {row.id: Credentials(row.id, row.password_hash, row.registration_status) for row in rows}
    return [found.get(cp_id) for cp_id in charge_point_ids]


async def set_connected_many(session: AsyncSession, changes: list[tuple[str, bool, datetime]]) -> list[None]:
    """`mark_connected` / `mark_disconnected` for many charge points, in the given order (executemany)."""
    table = ChargePoint.__table__  # type: ignore[attr-defined]
    statement = (
        update(table)
        .where(table.c.id == bindparam("cp_id"))
        .values(
            connected=bindparam("connected"),
            connected_since=bindparam("since", type_=table.c.connected_since.type),
            last_seen_at=bindparam("at", type_=table.c.last_seen_at.type),
        )
    )
    params = [
        {"cp_id": cp_id, "connected": connected, "since": at if connected else None, "at": at}
        for cp_id, connected, at in changes
    ]
    await execute_core(session, statement, params)
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
        .where(col(ChargePoint.id) == charge_point_id)
        .values(connected=True, connected_since=now, last_seen_at=now)
    )


async def mark_disconnected(session: AsyncSession, charge_point_id: str, now: datetime) -> None:
    await session.exec(
        update(ChargePoint)
        .where(col(ChargePoint.id) == charge_point_id)
        .values(connected=False, connected_since=None, last_seen_at=now)
    )


async def mark_all_disconnected(session: AsyncSession, now: datetime) -> None:
    """At gateway start nobody is connected yet (a crash may have left `connected` set)."""
    await session.exec(
        update(ChargePoint).where(col(ChargePoint.connected)).values(connected=False, connected_since=None)
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
    (Rejected for an unknown charge point): one SELECT, one executemany UPDATE, one executemany INSERT."""
    ids = {boot.charge_point_id for boot in boots}
    found = await session.exec(
        select(ChargePoint.id, ChargePoint.registration_status).where(col(ChargePoint.id).in_(ids))
    )
    known = {cp_id: RegistrationStatus(status) for cp_id, status in found}
    answers = [known.get(boot.charge_point_id, RegistrationStatus.rejected) for boot in boots]
    stored = [
        (boot, status) for boot, status in zip(boots, answers, strict=True) if boot.charge_point_id in known
    ]
    if not stored:
        return answers
    table = ChargePoint.__table__  # type: ignore[attr-defined]
    fields = {
        attribute: bindparam(attribute, type_=table.c[attribute].type) for attribute in BOOT_FIELDS.values()
    }
    at = bindparam("at", type_=table.c.last_boot_at.type)
    statement = (
        update(table)
        .where(table.c.id == bindparam("cp_id"))
        .values(last_boot_at=at, last_seen_at=at, **fields)
    )
    params = [
        {"cp_id": boot.charge_point_id, "at": boot.now}
        | {attribute: boot.payload.get(field) for field, attribute in BOOT_FIELDS.items()}
        for boot, _ in stored
    ]
    await execute_core(session, statement, params)
    history = BootNotification.__table__  # type: ignore[attr-defined]
    rows = [
        {
            "charge_point_id": boot.charge_point_id,
            "payload": dict(boot.payload),
            "status": status.value,
            "received_at": boot.now,
        }
        for boot, status in stored
    ]
    await execute_core(session, insert(history), rows)
    return answers


async def record_statuses(
    session: AsyncSession, reports: list[tuple[str, StatusReport, datetime]]
) -> list[bool]:
    """Append each (charge point, report, now) to the status history; update the live connector unless it
    holds a newer status. Returns, per report, whether the live state changed (a queued, older report only
    lands in the history). A timestamp ahead of `now` (a charge point clock running fast) orders as `now`,
    so that it cannot block every later report. History, connectors and live states take one statement
    each (live states one more for each further report of a connector in the same batch)."""
    history = StatusNotification.__table__  # type: ignore[attr-defined]
    await execute_core(
        session,
        insert(history),
        [
            {
                "charge_point_id": cp_id,
                "connector_id": report.connector_id,
                "status": report.status,
                "error_code": report.error_code,
                "info": report.info,
                "vendor_id": report.vendor_id,
                "vendor_error_code": report.vendor_error_code,
                "timestamp": report.timestamp,
                "received_at": now,
            }
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
    # One statement per round; a connector reported twice in the batch is updated again in the next round,
    # in the order received, so each report is judged against the one before it as if alone.
    rounds: list[list[int]] = []
    seen: dict[tuple[str, int], int] = {}
    for index, (cp_id, report, _now) in enumerate(reports):
        key = (cp_id, report.connector_id)
        seen[key] = seen.get(key, -1) + 1
        if seen[key] == len(rounds):
            rounds.append([])
        rounds[seen[key]].append(index)
    changed = [False] * len(reports)
    for members in rounds:
        rows = [_live_state(*reports[index]) for index in members]
        updated = await update_many(
            session, Connector, ["charge_point_id", "connector_id"], rows, unless_newer="status_at"
        )
        for index, row in zip(members, rows, strict=True):
            changed[index] = (row["charge_point_id"], row["connector_id"]) in updated
    return changed


def _live_state(cp_id: str, report: StatusReport, now: datetime) -> dict[str, Any]:
    """The connector's live-state row for `report`; a timestamp ahead of `now` orders as `now`."""
    return {
        "charge_point_id": cp_id,
        "connector_id": report.connector_id,
        "status": report.status,
        "error_code": report.error_code,
        "info": report.info,
        "vendor_id": report.vendor_id,
        "vendor_error_code": report.vendor_error_code,
        "status_at": min(report.timestamp, now),
    }


async def record_diagnostics_status(
    session: AsyncSession, charge_point_id: str, status: str, now: datetime
) -> None:
    await session.exec(
        update(ChargePoint)
        .where(col(ChargePoint.id) == charge_point_id)
        .values(diagnostics_status=status, diagnostics_status_at=now, last_seen_at=now)
    )


async def record_firmware_status(
    session: AsyncSession, charge_point_id: str, status: str, now: datetime
) -> None:
    await session.exec(
        update(ChargePoint)
        .where(col(ChargePoint.id) == charge_point_id)
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
            col(ChargePointConfiguration.charge_point_id) == charge_point_id,
            col(ChargePointConfiguration.key) == key,
        )
        .values(**values)
    )


async def configuration(session: AsyncSession, charge_point_id: str) -> dict[str, str | None]:
    rows = await session.exec(
        select(ChargePointConfiguration).where(ChargePointConfiguration.charge_point_id == charge_point_id)
    )
    return {row.key: row.value for row in rows}


async def configuration_many(
    session: AsyncSession, charge_point_ids: list[str]
) -> list[dict[str, str | None]]:
    """`configuration` of many charge points in one SELECT of plain rows (no ORM objects)."""
    table = ChargePointConfiguration
    rows = await session.exec(
        select(table.charge_point_id, table.key, table.value).where(
            col(table.charge_point_id).in_(set(charge_point_ids))
        )
    )
    found: dict[str, dict[str, str | None]] = {}
    for charge_point_id, key, value in rows:
        found.setdefault(charge_point_id, {})[key] = value
    return [dict(found.get(cp_id, {})) for cp_id in charge_point_ids]


async def set_local_list_version(session: AsyncSession, charge_point_id: str, version: int) -> None:
    await session.exec(
        update(ChargePoint).where(col(ChargePoint.id) == charge_point_id).values(local_list_version=version)
    )
