"""Read queries of the API: filtered, paginated lists; transaction energy; the status summary; CSV."""

from collections.abc import AsyncIterator, Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, and_, func, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from app.db.engine import Database
from app.db.tables.ocpp import (
    boot_notification_table,
    charge_point_configuration_table,
    charge_point_table,
    command_table,
    connector_table,
    id_tag_table,
    meter_value_table,
    reservation_table,
    status_notification_table,
    transaction_table,
)
from app.domain.access import Scope
from app.domain.clock import as_utc
from app.domain.enums import RegistrationStatus, ReservationStatus
from app.domain.ocpp import (
    BootNotification,
    ChargePoint,
    ChargePointConfiguration,
    Command,
    Connector,
    IdTag,
    MeterValue,
    Reservation,
    StatusNotification,
    Transaction,
)
from app.domain.paging import Found, Window

__all__ = [
    "CommandFilter",
    "IdTagFilter",
    "IdTagView",
    "MeterValueFilter",
    "ReservationFilter",
    "StatusSummary",
    "TransactionFilter",
    "TransactionView",
    "connectors_of",
    "get_charge_point",
    "get_command",
    "get_id_tag",
    "get_reservation",
    "get_transaction",
    "iter_meter_values",
    "iter_transactions",
    "list_boot_notifications",
    "list_charge_points",
    "list_commands",
    "list_configuration",
    "list_connectors",
    "list_id_tags",
    "list_meter_values",
    "list_reservations",
    "list_status_history",
    "list_transactions",
    "reservation_is_active",
    "status_summary",
    "transaction_meter_values",
]

T = TypeVar("T")

ENERGY_REGISTER = "Energy.Active.Import.Register"
ACTIVE_RESERVATION = ReservationStatus.accepted.value
CSV_BATCH = 1000


def _in_scope(column: Any, scope: Scope) -> list[ColumnElement[bool]]:
    return [] if scope is None else [col(column).in_(scope)]


async def _page(session: AsyncSession, query: SelectOfScalar[T], window: Window) -> Found[T]:
    total = await session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = (await session.exec(query.limit(window.limit).offset(window.offset))).all()
    return Found(list(rows), total or 0)


# --- charge points --------------------------------------------------------------------------------


async def list_charge_points(
    session: AsyncSession,
    window: Window,
    *,
    scope: Scope = None,
    registration_status: str | None = None,
    site_id: int | None = None,
    search: str | None = None,
    connected: bool | None = None,
    connected_ids: Collection[str] = (),
) -> Found[ChargePoint]:
    """`search`: in the id or the description, case-insensitive."""
    query = (
        select(ChargePoint)
        .where(*_in_scope(charge_point_table.c.id, scope))
        .order_by(charge_point_table.c.id)
    )
    if search:
        query = query.where(
            or_(
                charge_point_table.c.id.icontains(search, autoescape=True),
                charge_point_table.c.description.icontains(search, autoescape=True),
            )
        )
    if site_id is not None:
        query = query.where(charge_point_table.c.site_id == site_id)
    if registration_status is not None:
        query = query.where(charge_point_table.c.registration_status == registration_status)
    if connected is True:
        query = query.where(charge_point_table.c.id.in_(connected_ids))
    elif connected is False:
        query = query.where(charge_point_table.c.id.not_in(connected_ids))
    return await _page(session, query, window)


async def get_charge_point(
    session: AsyncSession, charge_point_id: str, *, scope: Scope = None
) -> ChargePoint | None:
    if scope is not None and charge_point_id not in scope:
        return None
    return await session.get(ChargePoint, charge_point_id)


async def connectors_of(session: AsyncSession, charge_point_ids: Sequence[str]) -> dict[str, list[Connector]]:
    found: dict[str, list[Connector]] = {cp: [] for cp in charge_point_ids}
    query = (
        select(Connector)
        .where(connector_table.c.charge_point_id.in_(charge_point_ids))
        .order_by(connector_table.c.charge_point_id, connector_table.c.connector_id)
    )
    for connector in (await session.exec(query)).all():
        found[connector.charge_point_id].append(connector)
    return found


async def list_connectors(session: AsyncSession, charge_point_id: str, window: Window) -> Found[Connector]:
    query = (
        select(Connector)
        .where(connector_table.c.charge_point_id == charge_point_id)
        .order_by(connector_table.c.connector_id)
    )
    return await _page(session, query, window)


async def list_configuration(
    session: AsyncSession, charge_point_id: str, window: Window
) -> Found[ChargePointConfiguration]:
    query = (
        select(ChargePointConfiguration)
        .where(charge_point_configuration_table.c.charge_point_id == charge_point_id)
        .order_by(charge_point_configuration_table.c.key)
    )
    return await _page(session, query, window)


async def list_status_history(
    session: AsyncSession,
    charge_point_id: str,
    window: Window,
    *,
    connector_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Found[StatusNotification]:
    """Newest first, by the time the charge point reported (received time when it gave none)."""
    when = func.coalesce(status_notification_table.c.timestamp, status_notification_table.c.received_at)
    query = (
        select(StatusNotification)
        .where(status_notification_table.c.charge_point_id == charge_point_id)
        .order_by(when.desc(), status_notification_table.c.id.desc())
    )
    if connector_id is not None:
        query = query.where(status_notification_table.c.connector_id == connector_id)
    if since is not None:
        query = query.where(when >= since)
    if until is not None:
        query = query.where(when < until)
    return await _page(session, query, window)


async def list_boot_notifications(
    session: AsyncSession, charge_point_id: str, window: Window
) -> Found[BootNotification]:
    query = (
        select(BootNotification)
        .where(boot_notification_table.c.charge_point_id == charge_point_id)
        .order_by(boot_notification_table.c.id.desc())
    )
    return await _page(session, query, window)


# --- id tags --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IdTagView:
    tag: IdTag
    active_transactions: int

    def expired(self, now: datetime) -> bool:
        expiry = self.tag.expiry_date
        return expiry is not None and as_utc(expiry) <= now


@dataclass(frozen=True)
class IdTagFilter:
    blocked: bool | None = None
    expired: bool | None = None
    in_transaction: bool | None = None
    search: str | None = None  # in the tag or its note, case-insensitive


def _active_by_tag() -> Any:
    return (
        select(transaction_table.c.id_tag.label("id_tag"), func.count().label("active"))
        .where(transaction_table.c.stop_timestamp.is_(None))
        .group_by(transaction_table.c.id_tag)
        .subquery()
    )


async def list_id_tags(
    session: AsyncSession, window: Window, filters: IdTagFilter, *, now: datetime
) -> Found[IdTagView]:
    active = _active_by_tag()
    count = func.coalesce(active.c.active, 0)
    query = (
        select(IdTag, count)
        .outerjoin(active, active.c.id_tag == id_tag_table.c.id_tag)
        .order_by(id_tag_table.c.id_tag)
    )
    if filters.search:
        query = query.where(
            or_(
                id_tag_table.c.id_tag.icontains(filters.search, autoescape=True),
                id_tag_table.c.note.icontains(filters.search, autoescape=True),
            )
        )
    if filters.blocked is not None:
        query = query.where(id_tag_table.c.blocked == filters.blocked)
    if filters.expired is not None:
        is_expired = and_(id_tag_table.c.expiry_date.is_not(None), id_tag_table.c.expiry_date <= now)
        query = query.where(is_expired if filters.expired else ~is_expired)
    if filters.in_transaction is not None:
        query = query.where(count > 0 if filters.in_transaction else count == 0)
    total = await session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = (await session.exec(query.limit(window.limit).offset(window.offset))).all()
    return Found([IdTagView(tag, int(n)) for tag, n in rows], total or 0)


async def get_id_tag(session: AsyncSession, id_tag: str) -> IdTagView | None:
    tag = await session.get(IdTag, id_tag)
    if tag is None:
        return None
    active = await session.scalar(
        select(func.count())
        .select_from(Transaction)
        .where(transaction_table.c.id_tag == id_tag, transaction_table.c.stop_timestamp.is_(None))
    )
    return IdTagView(tag, active or 0)


# --- transactions and meter values ----------------------------------------------------------------


@dataclass(frozen=True)
class TransactionView:
    transaction: Transaction
    energy_wh: float | None

    @property
    def active(self) -> bool:
        return self.transaction.stop_timestamp is None


@dataclass(frozen=True)
class TransactionFilter:
    """Transactions of a charge point / tag, overlapping [since, until), active or finished."""

    charge_point_id: str | None = None
    connector_id: int | None = None
    id_tag: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    active: bool | None = None
    scope: Scope = None

    def where(self) -> list[ColumnElement[bool]]:
        clauses = _in_scope(transaction_table.c.charge_point_id, self.scope)
        stop = transaction_table.c.stop_timestamp
        if self.charge_point_id is not None:
            clauses.append(transaction_table.c.charge_point_id == self.charge_point_id)
        if self.connector_id is not None:
            clauses.append(transaction_table.c.connector_id == self.connector_id)
        if self.id_tag is not None:
            clauses.append(transaction_table.c.id_tag == self.id_tag)
        if self.since is not None:
            clauses.append(or_(stop.is_(None), stop >= self.since))
        if self.until is not None:
            clauses.append(transaction_table.c.start_timestamp < self.until)
        if self.active is not None:
            clauses.append(stop.is_(None) if self.active else stop.is_not(None))
        return clauses


async def _latest_register_wh(session: AsyncSession, transaction_ids: Sequence[int]) -> dict[int, float]:
    """The latest Energy.Active.Import.Register (Wh, all phases) of each transaction."""
    if not transaction_ids:
        return {}
    register = [
        meter_value_table.c.transaction_id.in_(transaction_ids),
        meter_value_table.c.measurand == ENERGY_REGISTER,
        meter_value_table.c.phase.is_(None),
        meter_value_table.c.unit_normalised == "Wh",
        meter_value_table.c.value_normalised.is_not(None),
    ]
    latest = (
        select(
            meter_value_table.c.transaction_id.label("tx"),
            func.max(meter_value_table.c.timestamp).label("ts"),
        )
        .where(*register)
        .group_by(meter_value_table.c.transaction_id)
        .subquery()
    )
    query = (
        select(meter_value_table.c.transaction_id, func.max(meter_value_table.c.value_normalised))
        .join(
            latest,
            and_(
                latest.c.tx == meter_value_table.c.transaction_id,
                latest.c.ts == meter_value_table.c.timestamp,
            ),
        )
        .where(*register)
        .group_by(meter_value_table.c.transaction_id)
    )
    return {
        tx: float(wh) for tx, wh in (await session.exec(query)).all() if tx is not None and wh is not None
    }


async def _with_energy(session: AsyncSession, transactions: Sequence[Transaction]) -> list[TransactionView]:
    registers = await _latest_register_wh(
        session, [t.id for t in transactions if t.stop_timestamp is None and t.id is not None]
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
    session: AsyncSession, window: Window, filters: TransactionFilter
) -> Found[TransactionView]:
    query = select(Transaction).where(*filters.where()).order_by(transaction_table.c.id.desc())
    found = await _page(session, query, window)
    return Found(await _with_energy(session, found.items), found.total)


async def get_transaction(
    session: AsyncSession, transaction_id: int, *, scope: Scope = None
) -> TransactionView | None:
    transaction = await session.get(Transaction, transaction_id)
    if transaction is None or (scope is not None and transaction.charge_point_id not in scope):
        return None
    return (await _with_energy(session, [transaction]))[0]


async def transaction_meter_values(session: AsyncSession, transaction_id: int) -> list[MeterValue]:
    query = (
        select(MeterValue)
        .where(meter_value_table.c.transaction_id == transaction_id)
        .order_by(meter_value_table.c.timestamp, meter_value_table.c.id)
    )
    return list((await session.exec(query)).all())


async def iter_transactions(database: Database, filters: TransactionFilter) -> AsyncIterator[TransactionView]:
    """All matching transactions by id, read in batches (a short unit of work each)."""
    after = 0
    while True:
        async with database.session() as session:
            query = (
                select(Transaction)
                .where(*filters.where(), transaction_table.c.id > after)
                .order_by(transaction_table.c.id)
                .limit(CSV_BATCH)
            )
            batch = (await session.exec(query)).all()
            views = await _with_energy(session, batch)
        for view in views:
            yield view
        if len(batch) < CSV_BATCH:
            return
        after = batch[-1].id or 0


@dataclass(frozen=True)
class MeterValueFilter:
    """Meter values sampled in [since, until)."""

    charge_point_id: str | None = None
    connector_id: int | None = None
    transaction_id: int | None = None
    measurand: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    scope: Scope = None

    def where(self) -> list[ColumnElement[bool]]:
        clauses = _in_scope(meter_value_table.c.charge_point_id, self.scope)
        if self.charge_point_id is not None:
            clauses.append(meter_value_table.c.charge_point_id == self.charge_point_id)
        if self.connector_id is not None:
            clauses.append(meter_value_table.c.connector_id == self.connector_id)
        if self.transaction_id is not None:
            clauses.append(meter_value_table.c.transaction_id == self.transaction_id)
        if self.measurand is not None:
            clauses.append(meter_value_table.c.measurand == self.measurand)
        if self.since is not None:
            clauses.append(meter_value_table.c.timestamp >= self.since)
        if self.until is not None:
            clauses.append(meter_value_table.c.timestamp < self.until)
        return clauses


async def list_meter_values(
    session: AsyncSession, window: Window, filters: MeterValueFilter
) -> Found[MeterValue]:
    """Oldest first: a meter series reads forward in time."""
    query = (
        select(MeterValue)
        .where(*filters.where())
        .order_by(meter_value_table.c.timestamp, meter_value_table.c.id)
    )
    return await _page(session, query, window)


async def iter_meter_values(database: Database, filters: MeterValueFilter) -> AsyncIterator[MeterValue]:
    after = 0
    while True:
        async with database.session() as session:
            query = (
                select(MeterValue)
                .where(*filters.where(), meter_value_table.c.id > after)
                .order_by(meter_value_table.c.id)
                .limit(CSV_BATCH)
            )
            batch = (await session.exec(query)).all()
        for value in batch:
            yield value
        if len(batch) < CSV_BATCH:
            return
        after = batch[-1].id or 0


# --- reservations and commands --------------------------------------------------------------------


@dataclass(frozen=True)
class ReservationFilter:
    charge_point_id: str | None = None
    id_tag: str | None = None
    status: str | None = None
    active: bool | None = None
    scope: Scope = None


def _reservation_active(now: datetime) -> ColumnElement[bool]:
    return and_(reservation_table.c.status == ACTIVE_RESERVATION, reservation_table.c.expiry_date > now)


def reservation_is_active(reservation: Reservation, now: datetime) -> bool:
    return reservation.status == ACTIVE_RESERVATION and as_utc(reservation.expiry_date) > now


async def list_reservations(
    session: AsyncSession, window: Window, filters: ReservationFilter, *, now: datetime
) -> Found[Reservation]:
    query = (
        select(Reservation)
        .where(*_in_scope(reservation_table.c.charge_point_id, filters.scope))
        .order_by(reservation_table.c.created_at.desc(), reservation_table.c.id.desc())
    )
    if filters.charge_point_id is not None:
        query = query.where(reservation_table.c.charge_point_id == filters.charge_point_id)
    if filters.id_tag is not None:
        query = query.where(reservation_table.c.id_tag == filters.id_tag)
    if filters.status is not None:
        query = query.where(reservation_table.c.status == filters.status)
    if filters.active is not None:
        query = query.where(_reservation_active(now) if filters.active else ~_reservation_active(now))
    return await _page(session, query, window)


async def get_reservation(
    session: AsyncSession, reservation_id: int, *, scope: Scope = None
) -> Reservation | None:
    reservation = await session.get(Reservation, reservation_id)
    if reservation is None or (scope is not None and reservation.charge_point_id not in scope):
        return None
    return reservation


@dataclass(frozen=True)
class CommandFilter:
    charge_point_id: str | None = None
    action: str | None = None
    status: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    scope: Scope = None


async def list_commands(session: AsyncSession, window: Window, filters: CommandFilter) -> Found[Command]:
    """Newest first."""
    query = (
        select(Command)
        .where(*_in_scope(command_table.c.charge_point_id, filters.scope))
        .order_by(command_table.c.id.desc())
    )
    if filters.charge_point_id is not None:
        query = query.where(command_table.c.charge_point_id == filters.charge_point_id)
    if filters.action is not None:
        query = query.where(command_table.c.action == filters.action)
    if filters.status is not None:
        query = query.where(command_table.c.status == filters.status)
    if filters.since is not None:
        query = query.where(command_table.c.created_at >= filters.since)
    if filters.until is not None:
        query = query.where(command_table.c.created_at < filters.until)
    return await _page(session, query, window)


async def get_command(session: AsyncSession, command_id: int, *, scope: Scope = None) -> Command | None:
    command = await session.get(Command, command_id)
    if command is None or (scope is not None and command.charge_point_id not in scope):
        return None
    return command


# --- status summary -------------------------------------------------------------------------------


@dataclass(frozen=True)
class StatusSummary:
    charge_points: int
    connected_charge_points: int
    pending_charge_points: int
    id_tags: int
    active_transactions: int
    active_reservations: int
    connectors_by_status: dict[str, int]
    heartbeats: dict[str, int] = field(default_factory=dict)  # today, yesterday, earlier, never


async def status_summary(
    session: AsyncSession, *, now: datetime, connected_ids: Collection[str], scope: Scope = None
) -> StatusSummary:
    """What SteVe's home page counts; heartbeat days are UTC days."""

    async def count(model: Any, *where: ColumnElement[bool]) -> int:
        return (await session.scalar(select(func.count()).select_from(model).where(*where))) or 0

    in_scope = _in_scope(charge_point_table.c.id, scope)
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    yesterday = today - timedelta(days=1)
    beat = charge_point_table.c.last_heartbeat_at
    by_status = (
        select(connector_table.c.status, func.count())
        .where(connector_table.c.connector_id > 0, *_in_scope(connector_table.c.charge_point_id, scope))
        .group_by(connector_table.c.status)
    )
    connectors: dict[str, int] = {}
    for status, n in (await session.exec(by_status)).all():
        connectors[status or "Unknown"] = connectors.get(status or "Unknown", 0) + n
    return StatusSummary(
        charge_points=await count(ChargePoint, *in_scope),
        connected_charge_points=await count(
            ChargePoint, *in_scope, charge_point_table.c.id.in_(connected_ids)
        ),
        pending_charge_points=await count(
            ChargePoint,
            *in_scope,
            charge_point_table.c.registration_status == RegistrationStatus.pending.value,
        ),
        id_tags=await count(IdTag),
        active_transactions=await count(
            Transaction,
            transaction_table.c.stop_timestamp.is_(None),
            *_in_scope(transaction_table.c.charge_point_id, scope),
        ),
        active_reservations=await count(
            Reservation, _reservation_active(now), *_in_scope(reservation_table.c.charge_point_id, scope)
        ),
        connectors_by_status=connectors,
        heartbeats={
            "today": await count(ChargePoint, *in_scope, beat >= today),
            "yesterday": await count(ChargePoint, *in_scope, beat >= yesterday, beat < today),
            "earlier": await count(ChargePoint, *in_scope, beat < yesterday),
            "never": await count(ChargePoint, *in_scope, beat.is_(None)),
        },
    )
