"""Session demand: when a transaction's EV leaves and how much energy it wants, and where that came from.

Per field, the first that applies: set through the API (driver app or operator) → the site's defaults →
an estimate from the id tag's past sessions (median energy and median duration of its last completed
transactions) → unknown.
"""

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import func as sa_func
from sqlalchemy import select as sa_select
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.tables.ocpp import charge_point_table, transaction_table
from app.db.tables.planning import session_demand_table, site_table
from app.domain.clock import as_utc
from app.domain.ocpp import ChargePoint, Transaction
from app.domain.planning import SessionDemand, Site
from app.domain.snapshot import ActiveTransaction
from app.services.planning.sites import Conflict, Invalid, NotFound

__all__ = [
    "HISTORY_SESSIONS",
    "MIN_HISTORY_SESSIONS",
    "DemandSource",
    "EffectiveDemand",
    "clear_demand",
    "effective_demand",
    "effective_demands",
    "resolve_demand",
    "set_demand",
]

HISTORY_SESSIONS = 10  # the last N completed sessions of a tag make the estimate
MIN_HISTORY_SESSIONS = 3  # fewer than this and there is no estimate


class DemandSource(StrEnum):
    api = "api"
    site_default = "site_default"
    tag_history = "tag_history"
    unknown = "unknown"


@dataclass(frozen=True)
class EffectiveDemand:
    transaction_id: int
    charge_point_id: str
    connector_id: int
    site_id: int | None
    id_tag: str
    started_at: datetime
    departure: datetime | None
    departure_source: DemandSource
    energy_kwh: float | None
    energy_source: DemandSource
    history_sessions: int  # completed sessions of the tag the estimate looked at
    set_by: str | None
    set_at: datetime | None


async def _transaction(session: AsyncSession, transaction_id: int) -> Transaction:
    tx = await session.get(Transaction, transaction_id)
    if tx is None:
        raise NotFound(f"transaction {transaction_id} not found")
    return tx


async def set_demand(
    session: AsyncSession,
    transaction_id: int,
    *,
    departure: datetime | None,
    energy_kwh: float | None,
    now: datetime,
    author: str | None = None,
    author_key_id: int | None = None,
) -> SessionDemand:
    """Set (replace) a running transaction's demand; a field left None falls back to the defaults."""
    tx = await _transaction(session, transaction_id)
    if tx.stop_timestamp is not None:
        raise Conflict(f"transaction {transaction_id} has stopped")
    if departure is None and energy_kwh is None:
        raise Invalid("departure, energy_kwh: give at least one")
    if departure is not None:
        if departure.tzinfo is None:
            raise Invalid("departure: must be timezone-aware")
        if departure <= max(as_utc(tx.start_timestamp), now):
            raise Invalid("departure: must be in the future and after the transaction started")
    if energy_kwh is not None and (not math.isfinite(energy_kwh) or energy_kwh <= 0):
        raise Invalid("energy_kwh: must be a finite number > 0")
    demand = await session.get(SessionDemand, transaction_id)
    if demand is None:
        demand = SessionDemand(transaction_id=transaction_id)
        session.add(demand)
    demand.departure, demand.energy_kwh = departure, energy_kwh
    demand.source, demand.author, demand.author_key_id, demand.updated_at = "api", author, author_key_id, now
    await session.flush()
    return demand


async def clear_demand(session: AsyncSession, transaction_id: int) -> None:
    await _transaction(session, transaction_id)
    demand = await session.get(SessionDemand, transaction_id)
    if demand is not None:
        await session.delete(demand)
        await session.flush()


async def _tag_history(
    session: AsyncSession, tags: set[str], history: int
) -> dict[str, list[tuple[float, float]]]:
    """Per tag: (energy kWh, duration s) of its last `history` completed transactions."""
    if not tags:
        return {}
    ranked = (
        sa_select(
            transaction_table.c.id_tag,
            transaction_table.c.start_timestamp,
            transaction_table.c.stop_timestamp,
            (transaction_table.c.meter_stop_wh - transaction_table.c.meter_start_wh).label("energy_wh"),
            sa_func.row_number()
            .over(partition_by=transaction_table.c.id_tag, order_by=transaction_table.c.stop_timestamp.desc())
            .label("n"),
        )
        .where(
            transaction_table.c.id_tag.in_(tags),
            transaction_table.c.stop_timestamp.is_not(None),
            transaction_table.c.meter_stop_wh.is_not(None),
        )
        .subquery()
    )
    c = ranked.c
    query = select(c.id_tag, c.start_timestamp, c.stop_timestamp, c.energy_wh).where(c.n <= history)
    rows = (await session.exec(query)).all()
    out: dict[str, list[tuple[float, float]]] = {}
    for tag, started, stopped, energy_wh in rows:
        energy_kwh = energy_wh / 1000.0
        duration_s = (as_utc(stopped) - as_utc(started)).total_seconds()
        if energy_kwh > 0 and duration_s > 0:
            out.setdefault(tag, []).append((energy_kwh, duration_s))
    return out


def resolve_demand(
    tx: Transaction | ActiveTransaction,
    demand: SessionDemand | None,
    site: Site | None,
    past: Sequence[tuple[float, float]],
    min_history: int = MIN_HISTORY_SESSIONS,
) -> EffectiveDemand:
    """A transaction's demand, per field the first that applies: set through the API (`demand`), the
    site's default, the median of the tag's past sessions (`past`: (energy kWh, duration s)), unknown."""
    assert tx.id is not None
    started = as_utc(tx.start_timestamp)
    estimate = len(past) >= min_history
    departure, departure_source = None, DemandSource.unknown
    energy, energy_source = None, DemandSource.unknown
    if demand is not None and demand.departure is not None:
        departure, departure_source = demand.departure, DemandSource.api
    elif site is not None and site.default_duration_minutes is not None:
        departure = started + timedelta(minutes=site.default_duration_minutes)
        departure_source = DemandSource.site_default
    elif estimate:
        departure = started + timedelta(seconds=statistics.median(d for _, d in past))
        departure_source = DemandSource.tag_history
    if demand is not None and demand.energy_kwh is not None:
        energy, energy_source = demand.energy_kwh, DemandSource.api
    elif site is not None and site.default_energy_kwh is not None:
        energy, energy_source = site.default_energy_kwh, DemandSource.site_default
    elif estimate:
        energy, energy_source = statistics.median(e for e, _ in past), DemandSource.tag_history
    return EffectiveDemand(
        transaction_id=tx.id,
        charge_point_id=tx.charge_point_id,
        connector_id=tx.connector_id,
        site_id=site.id if site is not None else None,
        id_tag=tx.id_tag,
        started_at=started,
        departure=departure,
        departure_source=departure_source,
        energy_kwh=energy,
        energy_source=energy_source,
        history_sessions=len(past),
        set_by=demand.author if demand is not None else None,
        set_at=demand.updated_at if demand is not None else None,
    )


async def effective_demands(
    session: AsyncSession,
    transaction_ids: Iterable[int],
    *,
    history: int = HISTORY_SESSIONS,
    min_history: int = MIN_HISTORY_SESSIONS,
) -> dict[int, EffectiveDemand]:
    """The effective demand of each transaction (unknown ids are left out)."""
    ids = list(dict.fromkeys(transaction_ids))
    if not ids:
        return {}
    rows = (
        await session.exec(
            select(Transaction, SessionDemand, Site)
            .join(
                SessionDemand, session_demand_table.c.transaction_id == transaction_table.c.id, isouter=True
            )
            .join(ChargePoint, charge_point_table.c.id == transaction_table.c.charge_point_id)
            .join(Site, site_table.c.id == charge_point_table.c.site_id, isouter=True)
            .where(transaction_table.c.id.in_(ids))
        )
    ).all()
    histories = await _tag_history(session, {tx.id_tag for tx, _, _ in rows}, history)
    return {
        tx.id: resolve_demand(tx, demand, site, histories.get(tx.id_tag, []), min_history)
        for tx, demand, site in rows
        if tx.id is not None
    }


async def effective_demand(
    session: AsyncSession,
    transaction_id: int,
    *,
    history: int = HISTORY_SESSIONS,
    min_history: int = MIN_HISTORY_SESSIONS,
) -> EffectiveDemand:
    demands = await effective_demands(session, [transaction_id], history=history, min_history=min_history)
    if transaction_id not in demands:
        raise NotFound(f"transaction {transaction_id} not found")
    return demands[transaction_id]
