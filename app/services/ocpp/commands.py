"""The command service: every central-system operation recorded as a `Command` row, with its side effects.

A command's life: `create` (pending) → `complete` (accepted / rejected / error / timeout, with the time it
was sent, kept in memory until then).
Side effects of the answer are applied in the same unit of work as the completion: reservations
(ReserveNow, CancelReservation), stored configuration (GetConfiguration, ChangeConfiguration), the local
list version (GetLocalListVersion, SendLocalList) and outbound DataTransfer records.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, insert, text, update
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.sql import core_table
from app.db.tables.ocpp import command_table, reservation_table
from app.domain.enums import CommandStatus, ReservationStatus
from app.domain.ocpp import Command, Reservation
from app.domain.ports import CommandOutcome
from app.services.ocpp import charge_points, data_transfer
from app.services.timestamps import parse_timestamp

# Answers (the response's `status`) that mean the charge point did what was asked (or will, after a reboot).
ACCEPTING = frozenset({"Accepted", "Scheduled", "RebootRequired", "Unlocked"})


class ReservationConflict(Exception):
    """The requested reservationId belongs to another charge point."""


def answered(response: Mapping[str, Any]) -> CommandOutcome:
    """The outcome of a CALLRESULT: by its `status` field, or accepted for operations that have none."""
    status = response.get("status")
    accepted = status is None or status in ACCEPTING
    return CommandOutcome(CommandStatus.accepted if accepted else CommandStatus.rejected, dict(response))


async def create(
    session: AsyncSession,
    charge_point_id: str,
    action: str,
    payload: Mapping[str, Any],
    *,
    author: str | None,
    now: datetime,
) -> tuple[Command, dict[str, Any]]:
    """Record a pending command; returns it and the payload to send (ReserveNow gets its reservationId)."""
    command = Command(
        charge_point_id=charge_point_id, action=action, payload=dict(payload), author=author, created_at=now
    )
    session.add(command)
    await session.flush()
    assert command.id is not None
    if action == "ReserveNow":
        reservation = await _reserve(session, charge_point_id, payload, command.id, now)
        command.payload = dict(payload) | {"reservationId": reservation.id}
        session.add(command)
    return command, dict(command.payload)


# Operations whose answer changes more than the command row (see `_apply`): completed one by one.
SIDE_EFFECTS = frozenset(
    {
        "ReserveNow",
        "CancelReservation",
        "GetConfiguration",
        "ChangeConfiguration",
        "GetLocalListVersion",
        "SendLocalList",
        "DataTransfer",
    }
)


@dataclass(frozen=True)
class NewCommand:
    charge_point_id: str
    action: str
    payload: dict[str, Any]
    author: str | None
    created_at: datetime


async def create_many(session: AsyncSession, commands: list[NewCommand]) -> list[int]:
    """Record many pending commands (not ReserveNow: it allocates a reservation) in one INSERT; their ids."""
    assert all(c.action != "ReserveNow" for c in commands)
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
    table = core_table(Command)
    result = await session.exec(  # Core executemany ("insertmanyvalues"): ids in the order of `rows`
        insert(table).returning(table.c.id, sort_by_parameter_order=True), params=rows
    )
    return [int(command_id) for command_id in result.scalars().all()]


@dataclass(frozen=True)
class Completion:
    command_id: int
    outcome: CommandOutcome
    sent_at: datetime | None
    completed_at: datetime


async def complete_many(session: AsyncSession, completions: list[Completion]) -> list[None]:
    """`complete` for commands without side effects (not in `SIDE_EFFECTS`), as one executemany UPDATE."""
    table = core_table(Command)
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


async def complete(
    session: AsyncSession,
    command_id: int,
    outcome: CommandOutcome,
    now: datetime,
    *,
    sent_at: datetime | None = None,
) -> Command:
    """Store the outcome (and `sent_at`, when the caller kept it in memory) and apply its side effects."""
    command = await session.get(Command, command_id)
    assert command is not None
    if sent_at is not None:
        command.sent_at = sent_at
    command.status = outcome.status
    command.response = outcome.response
    command.error_code = outcome.error_code
    command.error_description = outcome.error_description
    command.completed_at = now
    session.add(command)
    await _apply(session, command, outcome, now)
    return command


async def _apply(session: AsyncSession, command: Command, outcome: CommandOutcome, now: datetime) -> None:
    cp_id, payload, response = command.charge_point_id, command.payload, outcome.response or {}
    accepted = outcome.status == CommandStatus.accepted
    if command.action == "ReserveNow":
        reservation = await session.get(Reservation, payload["reservationId"])
        if reservation is not None and reservation.command_id == command.id:
            reservation.status = ReservationStatus.accepted if accepted else ReservationStatus.rejected
            session.add(reservation)
    elif command.action == "CancelReservation" and accepted:
        reservation = await session.get(Reservation, payload["reservationId"])
        if reservation is not None and reservation.charge_point_id == cp_id:
            reservation.status = ReservationStatus.cancelled
            session.add(reservation)
    elif command.action == "GetConfiguration" and accepted:
        await charge_points.store_configuration(session, cp_id, response.get("configurationKey", []), now)
    elif command.action == "ChangeConfiguration" and accepted:
        await charge_points.set_configuration(session, cp_id, payload["key"], payload["value"], now)
    elif command.action == "GetLocalListVersion" and accepted:
        await charge_points.set_local_list_version(session, cp_id, int(response["listVersion"]))
    elif command.action == "SendLocalList" and accepted:
        await charge_points.set_local_list_version(session, cp_id, int(payload["listVersion"]))
    elif command.action == "DataTransfer":
        await data_transfer.record_outbound(
            session,
            cp_id,
            vendor_id=payload["vendorId"],
            message_id=payload.get("messageId"),
            data=payload.get("data"),
            status=response.get("status") or outcome.status,
            now=now,
        )


async def _reserve(
    session: AsyncSession, charge_point_id: str, payload: Mapping[str, Any], command_id: int, now: datetime
) -> Reservation:
    """Create (or, for a reservationId this charge point already holds, replace) the reservation.

    Without a reservationId in the payload the database allocates one.
    """
    fields = {
        "charge_point_id": charge_point_id,
        "connector_id": int(payload["connectorId"]),
        "id_tag": payload["idTag"],
        "parent_id_tag": payload.get("parentIdTag"),
        "expiry_date": parse_timestamp(payload["expiryDate"]),
        "status": ReservationStatus.requested,
        "command_id": command_id,
        "transaction_id": None,
    }
    reservation_id = payload.get("reservationId")
    reservation = await session.get(Reservation, reservation_id) if reservation_id is not None else None
    if reservation is not None:
        if reservation.charge_point_id != charge_point_id:
            raise ReservationConflict(f"reservationId {reservation_id} belongs to another charge point")
        for name, value in fields.items():
            setattr(reservation, name, value)
    else:
        reservation = Reservation(id=reservation_id, created_at=now, **fields)
    session.add(reservation)
    await session.flush()
    if reservation_id is not None and session.bind is not None and session.bind.dialect.name == "postgresql":
        # An explicit id does not advance the serial sequence; keep it ahead of the largest id.
        await session.exec(
            text(
                "SELECT setval(pg_get_serial_sequence('reservation', 'id'), "
                "GREATEST((SELECT MAX(id) FROM reservation), 1))"
            )  # type: ignore[call-overload]
        )
    return reservation


async def fail_interrupted(session: AsyncSession, now: datetime) -> int:
    """At gateway start: commands left pending by a previous process will never be answered."""
    result = await session.exec(
        update(Command)
        .where(command_table.c.status == CommandStatus.pending)
        .values(
            status=CommandStatus.error,
            error_code="Interrupted",
            error_description="the gateway restarted before an answer came",
            completed_at=now,
        )
    )
    return int(result.rowcount)


async def expire_reservations(session: AsyncSession, now: datetime) -> int:
    """Mark requested/accepted reservations past their expiry as expired; returns how many."""
    result = await session.exec(
        update(Reservation)
        .where(
            reservation_table.c.status.in_([ReservationStatus.requested, ReservationStatus.accepted]),
            reservation_table.c.expiry_date < now,
        )
        .values(status=ReservationStatus.expired)
    )
    return int(result.rowcount)
