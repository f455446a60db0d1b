"""Transactions as charge points report them: idempotent start, replay-safe stop, reservations honoured."""

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from app.domain.clock import as_utc
from app.domain.enums import ReservationStatus
from app.domain.events import TransactionStarted, TransactionStopped
from app.domain.metering import SampledValue
from app.domain.ocpp import Transaction
from app.domain.persistence import Store, UnitOfWork
from app.services.ocpp import reservations
from app.services.ocpp.authorisation import IdTagInfo, authorise
from app.services.ocpp.meter_values import store_samples

log = logging.getLogger(__name__)

SOURCE_STOP = "StopTransaction"


@dataclass(frozen=True)
class StartResult:
    transaction_id: int
    id_tag_info: IdTagInfo
    created: bool


@dataclass(frozen=True)
class StopResult:
    id_tag_info: IdTagInfo | None
    stopped: TransactionStopped | None  # None for a replay or an unknown transaction


async def start(
    store: Store,
    charge_point_id: str,
    *,
    connector_id: int,
    id_tag: str,
    meter_start_wh: int,
    timestamp: datetime,
    reservation_id: int | None,
    now: datetime,
) -> StartResult:
    """`start_transaction` in the group commit: returns once it is stored."""
    return await store.run(
        lambda uow: start_transaction(
            uow,
            charge_point_id,
            connector_id=connector_id,
            id_tag=id_tag,
            meter_start_wh=meter_start_wh,
            timestamp=timestamp,
            reservation_id=reservation_id,
            now=now,
        )
    )


async def start_transaction(
    uow: UnitOfWork,
    charge_point_id: str,
    *,
    connector_id: int,
    id_tag: str,
    meter_start_wh: int,
    timestamp: datetime,
    reservation_id: int | None,
    now: datetime,
) -> StartResult:
    """Record a StartTransaction. An identical retry (same connector, tag, timestamp, meterStart) returns the
    first transaction's id and answer; a tag that is unknown or not accepted is still recorded, with its
    status. A new transaction is announced (`TransactionStarted`) once stored.
    """
    timestamp = as_utc(timestamp)
    key = (charge_point_id, connector_id, id_tag, timestamp, meter_start_wh)
    existing = await uow.transactions.find_start(*key)
    if existing is not None:
        return StartResult(existing.id or 0, await _replayed_info(uow, existing, now), created=False)
    info = await authorise(uow, id_tag, now)
    reservation = await reservations.claimed(uow, charge_point_id, reservation_id)
    if reservation is not None and not await reservations.may_use(uow, reservation, id_tag):
        log.warning("%s: tag %s may not use reservation %s", charge_point_id, id_tag, reservation_id)
        reservation = None
        if info.status == "Accepted":
            info = IdTagInfo("Invalid", info.expiry_date, info.parent_id_tag)
    started = Transaction(
        charge_point_id=charge_point_id,
        connector_id=connector_id,
        id_tag=id_tag,
        start_timestamp=timestamp,
        meter_start_wh=meter_start_wh,
        id_tag_status=info.status,
        reservation_id=reservation_id,
        start_received_at=now,
    )
    transaction_id = await uow.transactions.add_start(started)
    if transaction_id is None:  # a concurrent identical start won the race
        existing = await uow.transactions.find_start(*key)
        assert existing is not None
        assert existing.id is not None
        return StartResult(existing.id, await _replayed_info(uow, existing, now), created=False)
    if reservation is not None:
        reservation.status = ReservationStatus.used
        reservation.transaction_id = transaction_id
    uow.record(
        TransactionStarted(transaction_id, charge_point_id, connector_id, id_tag, timestamp, meter_start_wh)
    )
    return StartResult(transaction_id, info, created=True)


async def stop(
    store: Store,
    charge_point_id: str,
    *,
    transaction_id: int,
    meter_stop_wh: int,
    timestamp: datetime,
    id_tag: str | None,
    reason: str | None,
    transaction_data: Sequence[SampledValue] = (),
    now: datetime,
) -> StopResult:
    """`stop_transaction` in the group commit: returns once it is stored."""
    return await store.run(
        lambda uow: stop_transaction(
            uow,
            charge_point_id,
            transaction_id=transaction_id,
            meter_stop_wh=meter_stop_wh,
            timestamp=timestamp,
            id_tag=id_tag,
            reason=reason,
            transaction_data=transaction_data,
            now=now,
        )
    )


async def stop_transaction(
    uow: UnitOfWork,
    charge_point_id: str,
    *,
    transaction_id: int,
    meter_stop_wh: int,
    timestamp: datetime,
    id_tag: str | None,
    reason: str | None,
    transaction_data: Sequence[SampledValue] = (),
    now: datetime,
) -> StopResult:
    """Close the transaction once and store its transactionData (source "StopTransaction"); the first stop
    is announced (`TransactionStopped`) once stored.

    A replay, an unknown id or -1 (errata 3.18) is answered as valid and changes nothing but new samples.
    """
    info = await authorise(uow, id_tag, now, check_concurrency=False) if id_tag else None
    transaction = await uow.transactions.get(transaction_id)
    if transaction is None or transaction.charge_point_id != charge_point_id:
        log.warning("%s: StopTransaction for unknown transaction %d", charge_point_id, transaction_id)
        await store_samples(uow, charge_point_id, 0, None, transaction_data, source=SOURCE_STOP, now=now)
        return StopResult(info, None)
    timestamp, reason = as_utc(timestamp), reason or "Local"
    closed = await uow.transactions.stop(
        transaction_id,
        timestamp=timestamp,
        meter_stop_wh=meter_stop_wh,
        reason=reason,
        id_tag=id_tag,
        now=now,
    )
    await store_samples(
        uow,
        charge_point_id,
        transaction.connector_id,
        transaction_id,
        transaction_data,
        source=SOURCE_STOP,
        now=now,
    )
    if not closed:
        return StopResult(info, None)
    stopped = TransactionStopped(
        transaction_id,
        charge_point_id,
        transaction.connector_id,
        transaction.id_tag,
        timestamp,
        meter_stop_wh,
        reason,
    )
    uow.record(stopped)
    return StopResult(info, stopped)


async def _replayed_info(uow: UnitOfWork, transaction: Transaction, now: datetime) -> IdTagInfo:
    current = await authorise(uow, transaction.id_tag, now, check_concurrency=False)
    return IdTagInfo(transaction.id_tag_status, current.expiry_date, current.parent_id_tag)
