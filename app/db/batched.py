"""The hot-path writes of `BatchedWrites`: each call hands its item to the group commit, which gives all
the items of one batch to one function here, so that they become one statement (or a few)."""

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, insert, update
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.engine import Database
from app.db.group_commit import one_statement
from app.db.rows import row_of
from app.db.sql import execute_insert_ignore, insert_many, insert_new_many, update_many, update_many_changed
from app.db.tables.ocpp import (
    boot_notification_table,
    charge_point_configuration_table,
    charge_point_table,
    command_table,
    connector_table,
    meter_value_table,
    status_notification_table,
    transaction_table,
)
from app.db.tables.planning import profile_dispatch_table
from app.domain.enums import CommandStatus, RegistrationStatus
from app.domain.messages import Boot, Completion, Credentials, NewCommand, StatusReport
from app.domain.metering import COLUMNS, DEDUP_KEY, MeterValuesMessage, Row
from app.domain.planning import ProfileDispatch

Connection = tuple[str, bool, datetime]
Seen = tuple[str, datetime]
Reported = tuple[str, StatusReport, datetime]


class SqlBatchedWrites:
    def __init__(self, database: Database) -> None:
        self._database = database

    async def record_dispatch(self, dispatch: ProfileDispatch) -> None:
        await self._database.run_bulk(insert_dispatches, dispatch)

    async def credentials(self, charge_point_id: str) -> Credentials | None:
        return await self._database.run_bulk(credentials_many, charge_point_id)

    async def configuration(self, charge_point_id: str) -> dict[str, str | None]:
        return await self._database.run_bulk(configuration_many, charge_point_id)

    async def set_connected(self, charge_point_id: str, connected: bool, at: datetime) -> None:
        await self._database.run_bulk(set_connected_many, (charge_point_id, connected, at))

    async def touch(self, charge_point_id: str, at: datetime) -> None:
        await self._database.run_bulk(touch_many, (charge_point_id, at))

    async def record_heartbeat(self, charge_point_id: str, at: datetime) -> None:
        await self._database.run_bulk(record_heartbeats, (charge_point_id, at))

    async def record_boot(self, boot: Boot) -> RegistrationStatus:
        return await self._database.run_bulk(record_boots, boot)

    async def record_status(self, charge_point_id: str, report: StatusReport, now: datetime) -> bool:
        return await self._database.run_bulk(record_statuses, (charge_point_id, report, now))

    async def store_meter_values(self, message: MeterValuesMessage) -> tuple[int | None, int]:
        return await self._database.run_bulk(store_meter_values, message)

    async def create_command(self, command: NewCommand) -> int:
        return await self._database.run_bulk(create_commands, command)

    async def command_sent(self, command_id: int, sent_at: datetime) -> None:
        await self._database.run_bulk(commands_sent, (command_id, sent_at))

    async def complete_command(self, completion: Completion) -> None:
        await self._database.run_bulk(complete_commands, completion)


@one_statement
async def insert_dispatches(session: AsyncSession, dispatches: list[ProfileDispatch]) -> list[None]:
    """Many `ProfileDispatch` rows as one Core executemany INSERT (no ORM object per row)."""
    rows = [row_of(dispatch, profile_dispatch_table) for dispatch in dispatches]
    await session.exec(insert(profile_dispatch_table), params=rows)
    return [None] * len(rows)


# --- charge points ------------------------------------------------------------------------------------


async def credentials_many(session: AsyncSession, charge_point_ids: list[str]) -> list[Credentials | None]:
    """The credentials of many handshakes in one SELECT."""
    table = charge_point_table.c
    rows = await session.exec(
        select(table.id, table.password_hash, table.registration_status, table.security_profile).where(
            table.id.in_(set(charge_point_ids))
        )
    )
    found = {
        cp_id: Credentials(cp_id, password_hash, status, profile)
        for cp_id, password_hash, status, profile in rows
    }
    return [found.get(cp_id) for cp_id in charge_point_ids]


async def configuration_many(
    session: AsyncSession, charge_point_ids: list[str]
) -> list[dict[str, str | None]]:
    """The configuration of many charge points in one SELECT of plain rows (no ORM objects)."""
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


@one_statement
async def set_connected_many(session: AsyncSession, changes: list[Connection]) -> list[None]:
    """Connects and disconnects of many charge points, in the given order."""
    rows = [
        {
            "id": cp_id,
            "connected": connected,
            "connected_since": at if connected else None,
            "last_seen_at": at,
        }
        for cp_id, connected, at in changes
    ]
    await update_many(session, charge_point_table, ["id"], rows)
    return [None] * len(changes)


@one_statement
async def touch_many(session: AsyncSession, seen: list[Seen]) -> list[None]:
    """Note when charge points were last seen, many in one statement."""
    rows = [{"id": cp_id, "last_seen_at": at} for cp_id, at in seen]
    await update_many(session, charge_point_table, ["id"], rows)
    return [None] * len(seen)


@one_statement
async def record_heartbeats(session: AsyncSession, beats: list[Seen]) -> list[None]:
    """Heartbeats of many charge points in one statement."""
    rows = [{"id": cp_id, "last_heartbeat_at": at, "last_seen_at": at} for cp_id, at in beats]
    await update_many(session, charge_point_table, ["id"], rows)
    return [None] * len(beats)


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
        {"id": boot.charge_point_id, "last_boot_at": boot.now, "last_seen_at": boot.now} | boot.attributes()
        for boot, _ in stored
    ]
    await update_many(session, charge_point_table, ["id"], fields)
    rows = [
        {
            "charge_point_id": boot.charge_point_id,
            "payload": dict(boot.payload),
            "status": status.value,
            "received_at": boot.now,
        }
        for boot, status in stored
    ]
    await insert_many(session, boot_notification_table, rows)
    return answers


async def record_statuses(session: AsyncSession, reports: list[Reported]) -> list[bool]:
    """Append each (charge point, report, now) to the status history; update the live connector unless it
    holds a newer status. Returns, per report, whether the live state changed (a queued, older report only
    lands in the history). A timestamp ahead of `now` (a charge point clock running fast) orders as `now`,
    so that it cannot block every later report. History, connectors and live states take one statement
    each (live states one more for each further report of a connector in the same batch)."""
    await insert_many(
        session,
        status_notification_table,
        [
            _reported(cp_id, report) | {"timestamp": report.timestamp, "received_at": now}
            for cp_id, report, now in reports
        ],
    )
    connectors = {(cp_id, report.connector_id) for cp_id, report, _ in reports}
    await execute_insert_ignore(
        session,
        connector_table,
        [
            {"charge_point_id": cp_id, "connector_id": connector_id}
            for cp_id, connector_id in sorted(connectors)
        ],
        ["charge_point_id", "connector_id"],
    )
    return await update_many_changed(
        session,
        connector_table,
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


# --- meter values -------------------------------------------------------------------------------------


async def store_meter_values(
    session: AsyncSession, messages: list[MeterValuesMessage]
) -> list[tuple[int | None, int]]:
    """Resolve each message's transaction id and insert its new samples, for many messages in a few
    statements.

    Returns per message (its resolved transaction id, how many of its samples were new); a sample that
    two messages of the batch share counts for the first.
    """
    wanted = {m.transaction_id for m in messages if m.transaction_id is not None and m.transaction_id >= 0}
    owners: dict[int, str] = {}
    if wanted:
        found = await session.exec(
            select(transaction_table.c.id, transaction_table.c.charge_point_id).where(
                transaction_table.c.id.in_(wanted)
            )
        )
        owners = {int(tx_id): cp_id for tx_id, cp_id in found if tx_id is not None}
    resolved: list[int | None] = []
    rows: dict[str, Row] = {}
    keys_of: list[list[str]] = []
    for message in messages:
        tx = message.transaction_id
        tx_id = tx if tx is not None and owners.get(tx) == message.charge_point_id else None
        resolved.append(tx_id)
        own = message.rows(tx_id)
        keys_of.append([key for key in own if key not in rows])
        rows.update((key, row) for key, row in own.items() if key not in rows)
    inserted = await insert_new_many(session, meter_value_table, COLUMNS, list(rows.values()), DEDUP_KEY)
    return [
        (tx_id, sum(key in inserted for key in keys)) for tx_id, keys in zip(resolved, keys_of, strict=True)
    ]


# --- commands -----------------------------------------------------------------------------------------


@one_statement
async def create_commands(session: AsyncSession, commands: list[NewCommand]) -> list[int]:
    """Many pending commands in one INSERT; their ids."""
    rows = [
        {
            "charge_point_id": c.charge_point_id,
            "action": c.action,
            "payload": c.payload,
            "author": c.author,
            "status": CommandStatus.pending,
            "created_at": c.created_at,
        }
        for c in commands
    ]
    result = await session.exec(  # Core executemany ("insertmanyvalues"): ids in the order of `rows`
        insert(command_table).returning(command_table.c.id, sort_by_parameter_order=True), params=rows
    )
    return [int(command_id) for command_id in result.scalars().all()]


@one_statement
async def commands_sent(session: AsyncSession, sent: list[tuple[int, datetime]]) -> list[None]:
    """The times many commands went out, as one executemany UPDATE."""
    table = command_table
    statement = (
        update(table)
        .where(table.c.id == bindparam("command_id"))
        .values(sent_at=bindparam("sent_at", type_=table.c.sent_at.type))
    )
    await session.exec(statement, params=[{"command_id": i, "sent_at": at} for i, at in sent])
    return [None] * len(sent)


@one_statement
async def complete_commands(session: AsyncSession, completions: list[Completion]) -> list[None]:
    """Many outcomes (of commands without side effects) as one executemany UPDATE."""
    table = command_table
    statement = (
        update(table)
        .where(table.c.id == bindparam("command_id"))
        .values(
            status=bindparam("status"),
            response=bindparam("response", type_=table.c.response.type),
            error_code=bindparam("error_code"),
            error_description=bindparam("error_description"),
            sent_at=func.coalesce(bindparam("sent_at", type_=table.c.sent_at.type), table.c.sent_at),
            completed_at=bindparam("completed_at", type_=table.c.completed_at.type),
        )
    )
    params = [
        {
            "command_id": c.command_id,
            "status": c.outcome.status,
            "response": c.outcome.response,
            "error_code": c.outcome.error_code,
            "error_description": c.outcome.error_description,
            "sent_at": c.sent_at,
            "completed_at": c.completed_at,
        }
        for c in completions
    ]
    await session.exec(statement, params=params)
    return [None] * len(completions)
