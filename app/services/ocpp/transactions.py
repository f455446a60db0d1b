"""Transactions as charge points report them: idempotent start, replay-safe stop, reservations honoured."""

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.sql import insert_ignore_returning
from app.db.tables.ocpp import transaction_table
from app.domain.clock import as_utc
from app.domain.enums import ReservationStatus
from app.domain.events import TransactionStopped
from app.domain.ocpp import Reservation, Transaction
from app.services.ocpp.authorisation import IdTagInfo, authorise, parent_of
from app.services.ocpp.meter_values import SampledValue, store_samples

log = logging.getLogger(__name__)

SOURCE_STOP = "StopTransaction"
START_KEY = ("charge_point_id", "connector_id", "id_tag", "start_timestamp", "meter_start_wh")


@dataclass(frozen=True)
class StartResult:
    transaction_id: int
    id_tag_info: IdTagInfo
    created: bool


@dataclass(frozen=True)
class StopResult:
    id_tag_info: IdTagInfo | None
    stopped: TransactionStopped | None  # None for a replay or an unknown transaction


async def start_transaction(
    session: AsyncSession,
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
    status.
    """
    key = (charge_point_id, connector_id, id_tag, as_utc(timestamp), meter_start_wh)
    existing = await _find_start(session, *key)
    if existing is not None:
        return StartResult(existing.id or 0, await _replayed_info(session, existing, now), created=False)
    info = await authorise(session, id_tag, now)
    reservation = await _claimed_reservation(session, charge_point_id, reservation_id)
    if reservation is not None and not await _may_use(session, reservation, id_tag):
        log.warning("%s: tag %s may not use reservation %s", charge_point_id, id_tag, reservation_id)
        reservation = None
        if info.status == "Accepted":
            info = IdTagInfo("Invalid", info.expiry_date, info.parent_id_tag)
    row = dict(zip(START_KEY, key, strict=True)) | {
        "id_tag_status": info.status,
        "reservation_id": reservation_id,
        "start_received_at": now,
    }
    inserted = await insert_ignore_returning(session, Transaction, [row], START_KEY, transaction_table.c.id)
    if not inserted:  # a concurrent identical start won the race
        existing = await _find_start(session, *key)
        assert existing is not None
        assert existing.id is not None
        return StartResult(existing.id, await _replayed_info(session, existing, now), created=False)
    transaction_id = int(inserted[0])
    if reservation is not None:
        reservation.status = ReservationStatus.used
        reservation.transaction_id = transaction_id
        session.add(reservation)
    return StartResult(transaction_id, info, created=True)


async def stop_transaction(
    session: AsyncSession,
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
    """Close the transaction once and store its transactionData (source "StopTransaction").

    A replay, an unknown id or -1 (errata 3.18) is answered as valid and changes nothing but new samples.
    """
    info = await authorise(session, id_tag, now, check_concurrency=False) if id_tag else None
    transaction = await session.get(Transaction, transaction_id)
    if transaction is None or transaction.charge_point_id != charge_point_id:
        log.warning("%s: StopTransaction for unknown transaction %d", charge_point_id, transaction_id)
        await store_samples(session, charge_point_id, 0, None, transaction_data, source=SOURCE_STOP, now=now)
        return StopResult(info, None)
    result = await session.exec(
        update(Transaction)
        .where(transaction_table.c.id == transaction_id, transaction_table.c.stop_timestamp.is_(None))
        .values(
            stop_timestamp=as_utc(timestamp),
            meter_stop_wh=meter_stop_wh,
            stop_reason=reason or "Local",
            stop_id_tag=id_tag,
            stop_received_at=now,
        )
    )
    await store_samples(
        session,
        charge_point_id,
        transaction.connector_id,
        transaction_id,
        transaction_data,
        source=SOURCE_STOP,
        now=now,
    )
    if not result.rowcount:
        return StopResult(info, None)
    stopped = TransactionStopped(
        transaction_id,
        charge_point_id,
        transaction.connector_id,
        transaction.id_tag,
        as_utc(timestamp),
        meter_stop_wh,
        reason or "Local",
    )
    return StopResult(info, stopped)


async def active_transaction(
    session: AsyncSession, charge_point_id: str, connector_id: int
) -> Transaction | None:
    rows = await session.exec(
        select(Transaction)
        .where(
            transaction_table.c.charge_point_id == charge_point_id,
            transaction_table.c.connector_id == connector_id,
            transaction_table.c.stop_timestamp.is_(None),
        )
        .order_by(transaction_table.c.id.desc())
    )
    return rows.first()


async def _find_start(
    session: AsyncSession,
    charge_point_id: str,
    connector_id: int,
    id_tag: str,
    timestamp: datetime,
    meter_start_wh: int,
) -> Transaction | None:
    rows = await session.exec(
        select(Transaction).where(
            transaction_table.c.charge_point_id == charge_point_id,
            transaction_table.c.connector_id == connector_id,
            transaction_table.c.id_tag == id_tag,
            transaction_table.c.start_timestamp == timestamp,
            transaction_table.c.meter_start_wh == meter_start_wh,
        )
    )
    return rows.first()


async def _replayed_info(session: AsyncSession, transaction: Transaction, now: datetime) -> IdTagInfo:
    current = await authorise(session, transaction.id_tag, now, check_concurrency=False)
    return IdTagInfo(transaction.id_tag_status, current.expiry_date, current.parent_id_tag)


async def _claimed_reservation(
    session: AsyncSession, charge_point_id: str, reservation_id: int | None
) -> Reservation | None:
    """The open reservation a StartTransaction claims, when it is this charge point's."""
    if reservation_id is None:
        return None
    reservation = await session.get(Reservation, reservation_id)
    if reservation is None or reservation.charge_point_id != charge_point_id:
        log.warning("%s: StartTransaction with unknown reservation %d", charge_point_id, reservation_id)
        return None
    if reservation.status in (ReservationStatus.cancelled, ReservationStatus.used):
        return None
    return reservation


async def _may_use(session: AsyncSession, reservation: Reservation, id_tag: str) -> bool:
    """The reserved tag itself, or a tag whose parent is the reservation's parent tag (OCPP 1.6 §5.13)."""
    if reservation.id_tag == id_tag:
        return True
    parent = await parent_of(session, id_tag)
    return parent is not None and parent in (reservation.parent_id_tag, reservation.id_tag)
