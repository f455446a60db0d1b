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

from app.domain.clock import as_utc
from app.domain.ocpp import Transaction
from app.domain.persistence import UnitOfWork
from app.domain.planning import SessionDemand, Site
from app.domain.repositories.planning import PastSession
from app.domain.snapshot import ActiveTransaction
from app.services.errors import Conflict, Invalid, NotFound

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
    min_current_a: float | None  # set for this session
    set_by: str | None
    set_at: datetime | None


async def _transaction(uow: UnitOfWork, transaction_id: int) -> Transaction:
    tx = await uow.transactions.get(transaction_id)
    if tx is None:
        raise NotFound(f"transaction {transaction_id} not found")
    return tx


async def set_demand(
    uow: UnitOfWork,
    transaction_id: int,
    *,
    departure: datetime | None,
    energy_kwh: float | None,
    min_current_a: float | None = None,
    now: datetime,
    author: str | None = None,
    author_key_id: int | None = None,
) -> SessionDemand:
    """Set (replace) a running transaction's demand; a field left None falls back to the defaults."""
    tx = await _transaction(uow, transaction_id)
    if tx.stop_timestamp is not None:
        raise Conflict(f"transaction {transaction_id} has stopped")
    if departure is None and energy_kwh is None and min_current_a is None:
        raise Invalid("departure, energy_kwh, min_current_a: give at least one")
    if departure is not None:
        if departure.tzinfo is None:
            raise Invalid("departure: must be timezone-aware")
        if departure <= max(as_utc(tx.start_timestamp), now):
            raise Invalid("departure: must be in the future and after the transaction started")
    if energy_kwh is not None and (not math.isfinite(energy_kwh) or energy_kwh <= 0):
        raise Invalid("energy_kwh: must be a finite number > 0")
    demand = await uow.demands.get(transaction_id)
    if demand is None:
        demand = SessionDemand(transaction_id=transaction_id)
        uow.demands.add(demand)
    demand.departure, demand.energy_kwh, demand.min_current_a = departure, energy_kwh, min_current_a
    demand.source, demand.author, demand.author_key_id, demand.updated_at = "api", author, author_key_id, now
    await uow.flush()
    return demand


async def clear_demand(uow: UnitOfWork, transaction_id: int) -> None:
    await _transaction(uow, transaction_id)
    demand = await uow.demands.get(transaction_id)
    if demand is not None:
        await uow.demands.delete(demand)
        await uow.flush()


def history_by_tag(sessions: Iterable[PastSession]) -> dict[str, list[tuple[float, float]]]:
    """Per tag: (energy kWh, duration s) of its sessions that charged something over some time."""
    out: dict[str, list[tuple[float, float]]] = {}
    for past in sessions:
        energy_kwh = past.energy_wh / 1000.0
        duration_s = (as_utc(past.stopped_at) - as_utc(past.started_at)).total_seconds()
        if energy_kwh > 0 and duration_s > 0:
            out.setdefault(past.id_tag, []).append((energy_kwh, duration_s))
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
        min_current_a=demand.min_current_a if demand is not None else None,
        set_by=demand.author if demand is not None else None,
        set_at=demand.updated_at if demand is not None else None,
    )


async def effective_demands(
    uow: UnitOfWork,
    transaction_ids: Iterable[int],
    *,
    history: int = HISTORY_SESSIONS,
    min_history: int = MIN_HISTORY_SESSIONS,
) -> dict[int, EffectiveDemand]:
    """The effective demand of each transaction (unknown ids are left out)."""
    ids = list(dict.fromkeys(transaction_ids))
    if not ids:
        return {}
    sessions = await uow.demands.sessions(ids)
    tags = {s.transaction.id_tag for s in sessions}
    histories = history_by_tag(await uow.demands.past_sessions(tags, history))
    return {
        s.transaction.id: resolve_demand(
            s.transaction, s.demand, s.site, histories.get(s.transaction.id_tag, []), min_history
        )
        for s in sessions
        if s.transaction.id is not None
    }


async def effective_demand(
    uow: UnitOfWork,
    transaction_id: int,
    *,
    history: int = HISTORY_SESSIONS,
    min_history: int = MIN_HISTORY_SESSIONS,
) -> EffectiveDemand:
    demands = await effective_demands(uow, [transaction_id], history=history, min_history=min_history)
    if transaction_id not in demands:
        raise NotFound(f"transaction {transaction_id} not found")
    return demands[transaction_id]
