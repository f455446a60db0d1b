"""The charging profiles a charge point holds, as the command log tells it: the SetChargingProfile requests
it accepted, less those a later one replaced (same chargingProfileId, or same connector, stack level and
purpose: OCPP 1.6 §5.16), a ClearChargingProfile it accepted removed, whose transaction ended (a TxProfile)
or whose validTo passed; and the composite schedules it answered to GetCompositeSchedule."""

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.domain.clock import parse_instant
from app.domain.enums import CommandStatus
from app.domain.ocpp import Command
from app.domain.paging import Window
from app.domain.persistence import UnitOfWork
from app.domain.queries import CommandFilter, TransactionFilter
from app.services.ocpp.reporting.transactions import PROFILES_READ

__all__ = ["InstalledProfile", "composite_schedules", "installed_profiles", "replay"]

ACTIVE_READ = 100  # a charge point's active transactions looked at (one per connector in practice)


@dataclass(frozen=True)
class InstalledProfile:
    """A profile the charge point accepted and holds still: the request's connector and profile, and the
    command that carried it."""

    connector_id: int
    profile: Mapping[str, Any]
    command: Command

    @property
    def profile_id(self) -> int:
        return int(self.profile["chargingProfileId"])

    @property
    def purpose(self) -> str:
        return str(self.profile.get("chargingProfilePurpose", ""))

    @property
    def stack_level(self) -> int:
        return int(self.profile.get("stackLevel", 0))


def _valid_to(profile: Mapping[str, Any]) -> datetime | None:
    text = profile.get("validTo")
    return parse_instant(str(text)) if text else None


def _cleared(held: InstalledProfile, request: Mapping[str, Any]) -> bool:
    """Whether a ClearChargingProfile `request` removes `held`: by id when it names one, else by every
    criterion it gives (none: all profiles)."""
    if request.get("id") is not None:
        return bool(held.profile_id == request["id"])
    criteria = (
        ("connectorId", held.connector_id),
        ("chargingProfilePurpose", held.purpose),
        ("stackLevel", held.stack_level),
    )
    return all(request.get(name) is None or request[name] == value for name, value in criteria)


def replay(
    commands: Iterable[Command],
    active_transactions: Mapping[int, int],
    now: datetime,
) -> list[InstalledProfile]:
    """The profiles held after `commands` (accepted SetChargingProfile and ClearChargingProfile, oldest
    first), given the charge point's active transactions now (transaction id → connector); by connector,
    purpose and stack level."""
    held: list[InstalledProfile] = []
    for command in commands:
        if command.action == "ClearChargingProfile":
            held = [p for p in held if not _cleared(p, command.payload)]
            continue
        new = InstalledProfile(
            int(command.payload["connectorId"]), command.payload["csChargingProfiles"], command
        )
        held = [
            p
            for p in held
            if p.profile_id != new.profile_id
            and (p.connector_id, p.stack_level, p.purpose) != (new.connector_id, new.stack_level, new.purpose)
        ]
        held.append(new)
    return sorted(
        (p for p in held if _holds(p, active_transactions, now)),
        key=lambda p: (p.connector_id, p.purpose, p.stack_level),
    )


def _holds(held: InstalledProfile, active_transactions: Mapping[int, int], now: datetime) -> bool:
    valid_to = _valid_to(held.profile)
    if valid_to is not None and valid_to <= now:
        return False
    if held.purpose != "TxProfile":
        return True
    transaction_id = held.profile.get("transactionId")
    if transaction_id is not None:
        return transaction_id in active_transactions
    return held.connector_id in active_transactions.values()  # the connector's transaction under way


async def _accepted(uow: UnitOfWork, charge_point_id: str, actions: Collection[str]) -> list[Command]:
    found: list[Command] = []
    for action in actions:
        filters = CommandFilter(charge_point_id, action, CommandStatus.accepted.value)
        found += (await uow.commands.list(Window(PROFILES_READ), filters)).items
    return sorted(found, key=lambda c: c.id or 0)


async def installed_profiles(uow: UnitOfWork, charge_point_id: str, now: datetime) -> list[InstalledProfile]:
    """The profiles `charge_point_id` holds, among what its latest `PROFILES_READ` accepted
    SetChargingProfile and ClearChargingProfile requests say."""
    commands = await _accepted(uow, charge_point_id, ("SetChargingProfile", "ClearChargingProfile"))
    filters = TransactionFilter(charge_point_id=charge_point_id, active=True)
    active = await uow.transactions.list(Window(ACTIVE_READ), filters)
    return replay(commands, {t.id: t.connector_id for t in active.items if t.id is not None}, now)


async def composite_schedules(uow: UnitOfWork, charge_point_id: str, window: Window) -> list[Command]:
    """The GetCompositeSchedule requests sent to `charge_point_id` and answered, newest first."""
    filters = CommandFilter(charge_point_id, "GetCompositeSchedule", CommandStatus.accepted.value)
    return list((await uow.commands.list(window, filters)).items)
