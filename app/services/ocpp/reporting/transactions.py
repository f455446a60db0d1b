"""Transactions with the energy they delivered, and their meter values."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from app.domain.access import Scope
from app.domain.ocpp import Command, MeterValue, Transaction
from app.domain.paging import Found, Window
from app.domain.persistence import UnitOfWork
from app.domain.queries import CommandFilter, TransactionFilter

PROFILES_READ = 1000  # the latest SetChargingProfile requests of a charge point looked through


@dataclass(frozen=True)
class TransactionView:
    """A transaction and its energy: meterStop − meterStart once stopped; while active, the latest energy
    register − meterStart (None while no register value is known)."""

    transaction: Transaction
    energy_wh: float | None

    @property
    def active(self) -> bool:
        return self.transaction.stop_timestamp is None


async def with_energy(uow: UnitOfWork, transactions: Sequence[Transaction]) -> list[TransactionView]:
    registers = await uow.meter_values.latest_register_wh(
        [t.id for t in transactions if t.stop_timestamp is None and t.id is not None]
    )
    views = []
    for t in transactions:
        if t.meter_stop_wh is not None:
            energy: float | None = float(t.meter_stop_wh - t.meter_start_wh)
        elif t.id in registers:
            energy = registers[t.id] - t.meter_start_wh
        else:
            energy = None
        views.append(TransactionView(t, energy))
    return views


async def list_transactions(
    uow: UnitOfWork, window: Window, filters: TransactionFilter
) -> Found[TransactionView]:
    """Newest first."""
    found = await uow.transactions.list(window, filters)
    return Found(await with_energy(uow, found.items), found.total)


async def get_transaction(
    uow: UnitOfWork, transaction_id: int, *, scope: Scope = None
) -> TransactionView | None:
    transaction = await uow.transactions.get(transaction_id)
    if transaction is None or (scope is not None and transaction.charge_point_id not in scope):
        return None
    return (await with_energy(uow, [transaction]))[0]


async def transaction_meter_values(uow: UnitOfWork, transaction_id: int) -> list[MeterValue]:
    """Oldest first."""
    return await uow.meter_values.of_transaction(transaction_id)


async def transaction_profiles(uow: UnitOfWork, transaction: Transaction) -> list[Command]:
    """The SetChargingProfile requests sent for `transaction` (the profile names its transactionId), oldest
    first, with their outcome; among the charge point's latest `PROFILES_READ` since the transaction began."""
    filters = CommandFilter(
        charge_point_id=transaction.charge_point_id,
        action="SetChargingProfile",
        since=transaction.start_received_at - timedelta(minutes=1),
    )
    found = await uow.commands.list(Window(PROFILES_READ, 0), filters)
    mine = [
        command
        for command in found.items
        if (command.payload.get("csChargingProfiles") or {}).get("transactionId") == transaction.id
    ]
    return mine[::-1]
