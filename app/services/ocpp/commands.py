"""The command service: every central-system operation recorded as a `Command` row, with its side effects.

A command's life: `record` (pending) → `sent` (the time its CALL went out, stored at once) → `finish`
(accepted / rejected / error / timeout).
Side effects of the answer are applied in the same unit of work as the completion: reservations
(ReserveNow, CancelReservation), stored configuration (GetConfiguration, ChangeConfiguration), the local
list version (GetLocalListVersion, SendLocalList), outbound DataTransfer records and the installed
certificates (GetInstalledCertificateIds, DeleteCertificate). Commands without
side effects are created and completed by batched writes, many in one statement.
"""

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from app.domain.enums import CommandStatus, ReservationStatus
from app.domain.messages import Completion, NewCommand, ReservationRequest
from app.domain.ocpp import Command, ConfigurationEntry
from app.domain.persistence import Store, UnitOfWork
from app.domain.ports import CommandOutcome
from app.services.ocpp import authorization_key, data_transfer, installed_certificates, reservations
from app.services.ocpp.reservations import ReservationConflict, TagRefused

__all__ = [
    "ACCEPTING",
    "SIDE_EFFECTS",
    "ReservationConflict",
    "TagRefused",
    "answered",
    "complete",
    "finish",
    "record",
    "sent",
]

# Answers (the response's `status`) that mean the charge point did what was asked (or will, after a reboot).
ACCEPTING = frozenset({"Accepted", "AcceptedCanceled", "Scheduled", "RebootRequired", "Unlocked"})

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
        "GetInstalledCertificateIds",
        "DeleteCertificate",
    }
)


def answered(response: Mapping[str, Any]) -> CommandOutcome:
    """The outcome of a CALLRESULT: by its `status` field, or accepted for operations that have none."""
    status = response.get("status")
    accepted = status is None or status in ACCEPTING
    return CommandOutcome(CommandStatus.accepted if accepted else CommandStatus.rejected, dict(response))


async def record(
    store: Store, command: NewCommand, reservation: ReservationRequest | None = None
) -> tuple[int, dict[str, Any]]:
    """Record a pending command; its id and the payload to send. A ReserveNow comes with its `reservation`,
    created (or replaced) with the command; the payload sent names its reservationId. Raises
    `ReservationConflict` when that id names a reservation it may not replace, `TagRefused` for a tag
    that may not charge."""
    if command.action != "ReserveNow":
        return await store.batched.create_command(command), command.payload
    assert reservation is not None
    return await store.run(lambda uow: _reserve_now(uow, command, reservation))


async def _reserve_now(
    uow: UnitOfWork, new: NewCommand, request: ReservationRequest
) -> tuple[int, dict[str, Any]]:
    command = Command(
        charge_point_id=new.charge_point_id,
        action=new.action,
        payload=dict(new.payload),
        author=new.author,
        created_at=new.created_at,
    )
    uow.commands.add(command)
    await uow.flush()
    assert command.id is not None
    reservation = await reservations.reserve(uow, new.charge_point_id, request, command.id, new.created_at)
    command.payload = dict(new.payload) | {"reservationId": reservation.id}
    return command.id, dict(command.payload)


async def sent(store: Store, command_id: int, sent_at: datetime) -> None:
    """Store when the command's CALL went out: a client reads it while the charge point has not answered."""
    await store.batched.command_sent(command_id, sent_at)


async def finish(store: Store, action: str, completion: Completion) -> None:
    """Store a command's outcome (and apply its side effects); returns once stored."""
    if action in SIDE_EFFECTS:
        await store.run(lambda uow: complete(uow, completion))
    else:  # one executemany UPDATE for all the outcomes that came meanwhile
        await store.batched.complete_command(completion)


async def complete(uow: UnitOfWork, completion: Completion) -> Command:
    """Store the outcome (and `sent_at`, when the caller kept it in memory) and apply its side effects."""
    command = await uow.commands.get(completion.command_id)
    assert command is not None
    outcome = completion.outcome
    if completion.sent_at is not None:
        command.sent_at = completion.sent_at
    command.status = outcome.status
    command.response = authorization_key.redact(outcome.response)
    command.error_code = outcome.error_code
    command.error_description = outcome.error_description
    command.completed_at = completion.completed_at
    await _apply(uow, command, outcome, completion.completed_at)
    if completion.password_hash is not None and outcome.status == CommandStatus.accepted:
        await _replace_password(uow, command.charge_point_id, completion.password_hash)
    return command


async def _replace_password(uow: UnitOfWork, charge_point_id: str, password_hash: str) -> None:
    """An accepted ChangeConfiguration AuthorizationKey: the old password stops working, the new one works."""
    charge_point = await uow.charge_points.get(charge_point_id)
    if charge_point is not None:
        charge_point.password_hash = password_hash


async def _apply(uow: UnitOfWork, command: Command, outcome: CommandOutcome, now: datetime) -> None:
    cp_id, payload, response = command.charge_point_id, command.payload, outcome.response or {}
    accepted = outcome.status == CommandStatus.accepted
    if command.action == "ReserveNow":
        reservation = await uow.reservations.get(payload["reservationId"])
        if reservation is not None and reservation.command_id == command.id:
            reservation.status = ReservationStatus.accepted if accepted else ReservationStatus.rejected
    elif command.action == "CancelReservation" and accepted:
        reservation = await uow.reservations.get(payload["reservationId"])
        if reservation is not None and reservation.charge_point_id == cp_id:
            reservation.status = ReservationStatus.cancelled
    elif command.action == "GetConfiguration" and accepted:
        await _store_configuration(uow, cp_id, response.get("configurationKey", []), now)
    elif command.action == "ChangeConfiguration" and accepted:
        entry = ConfigurationEntry(payload["key"], payload["value"])
        await uow.charge_points.set_configuration(cp_id, [entry], now)
    elif command.action == "GetLocalListVersion" and accepted:
        await uow.charge_points.set_local_list_version(cp_id, int(response["listVersion"]))
    elif command.action == "SendLocalList" and accepted:
        await uow.charge_points.set_local_list_version(cp_id, int(payload["listVersion"]))
    elif command.action == "GetInstalledCertificateIds":
        await installed_certificates.reported(uow, cp_id, payload["certificateType"], response, now)
    elif command.action == "DeleteCertificate":
        await installed_certificates.deleted(uow, cp_id, response, payload["certificateHashData"])
    elif command.action == "DataTransfer":
        data_transfer.record_outbound(
            uow,
            cp_id,
            vendor_id=payload["vendorId"],
            message_id=payload.get("messageId"),
            data=payload.get("data"),
            status=response.get("status") or outcome.status,
            now=now,
        )


async def _store_configuration(
    uow: UnitOfWork, charge_point_id: str, keys: Iterable[Mapping[str, Any]], now: datetime
) -> None:
    """Store GetConfiguration's `configurationKey` entries (key, value, readonly) as the latest state."""
    entries = [
        ConfigurationEntry(e["key"], authorization_key.redact(e).get("value"), e.get("readonly"))
        for e in keys
    ]
    await uow.charge_points.set_configuration(charge_point_id, entries, now)
