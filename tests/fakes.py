"""Fakes of the ports, for unit tests of the services: a store whose units of work hold plain data, a
profile sender that answers as told, and a clock that only moves when told."""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from app.domain.bus import EventBus
from app.domain.events import Event
from app.domain.ocpp import Transaction
from app.domain.planning import ComplianceEvent, ProfileDispatch, ScheduleEntry, ScheduleRevision
from app.domain.ports import DispatchResult, TxSchedule
from app.domain.snapshot import DefaultProfileBasis, SiteSnapshot

T = TypeVar("T")


@dataclass
class FakePlans:
    """`PlanRepository` over dictionaries: snapshots by site, revisions as stored."""

    snapshots: dict[int, SiteSnapshot] = field(default_factory=dict)
    sites_of: dict[str, int] = field(default_factory=dict)
    bases: dict[str, DefaultProfileBasis] = field(default_factory=dict)
    revisions: list[tuple[ScheduleRevision, list[ScheduleEntry]]] = field(default_factory=list)
    compliance: list[ComplianceEvent] = field(default_factory=list)

    async def snapshot(
        self, site_id: int, at: datetime, horizon: int, *, history: int
    ) -> SiteSnapshot | None:
        return self.snapshots.get(site_id)

    async def add_revision(self, revision: ScheduleRevision, entries: list[ScheduleEntry]) -> int:
        revision.id = len(self.revisions) + 1
        for entry in entries:
            entry.revision_id = revision.id
        self.revisions.append((revision, entries))
        return revision.id

    async def site_of(self, charge_point_id: str) -> int | None:
        return self.sites_of.get(charge_point_id)

    async def charge_points_in(self, site_id: int) -> list[str]:
        return sorted(cp for cp, site in self.sites_of.items() if site == site_id)

    async def site_intervals(self) -> dict[int, int]:
        return {site_id: s.site.interval_minutes for site_id, s in self.snapshots.items()}

    async def default_profile_basis(self, charge_point_id: str) -> DefaultProfileBasis | None:
        return self.bases.get(charge_point_id)

    # what the scheduler asks of `uow.transactions` and `uow.schedules`: the snapshots' transactions
    async def get(self, transaction_id: int) -> Transaction | None:
        for snapshot in self.snapshots.values():
            for tx in snapshot.transactions:
                if tx.id == transaction_id:
                    return Transaction(
                        id=tx.id,
                        charge_point_id=tx.charge_point_id,
                        connector_id=tx.connector_id,
                        id_tag=tx.id_tag,
                        start_timestamp=tx.start_timestamp,
                        meter_start_wh=0,
                    )
        return None

    async def record_compliance(self, event: ComplianceEvent) -> None:
        self.compliance.append(event)


@dataclass
class FakeBatched:
    dispatches: list[ProfileDispatch] = field(default_factory=list)

    async def record_dispatch(self, dispatch: ProfileDispatch) -> None:
        self.dispatches.append(dispatch)


class FakeUnitOfWork:
    """The repositories a test sets up; events recorded here are published when the block ends."""

    def __init__(self, plans: FakePlans) -> None:
        self.plans = plans
        self.transactions = plans
        self.schedules = plans
        self.events: list[Event] = []

    def record(self, event: Event) -> None:
        self.events.append(event)

    async def flush(self) -> None:
        return None


class FakeStore:
    def __init__(self, bus: EventBus, plans: FakePlans | None = None) -> None:
        self.bus = bus
        self.plans = plans or FakePlans()
        self.batched = FakeBatched()

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[Any]:
        uow = FakeUnitOfWork(self.plans)
        yield uow
        self.bus.publish_all(uow.events)

    def reading(self) -> Any:
        return self.unit_of_work()

    async def run(self, work: Callable[[Any], Awaitable[T]]) -> T:
        async with self.unit_of_work() as uow:
            return await work(uow)

    async def ping(self) -> None:
        return None


@dataclass
class FakeSender:
    """`ProfileSender` that answers each transaction's profiles with the statuses in `answers` (then
    "accepted"), and records what it was asked to send."""

    connected: set[str] = field(default_factory=set)
    answers: dict[int, list[str]] = field(default_factory=dict)
    sent: list[TxSchedule] = field(default_factory=list)
    defaults: list[tuple[str, float, int, float]] = field(default_factory=list)
    readings: list[tuple[str, int]] = field(default_factory=list)

    def is_connected(self, charge_point_id: str) -> bool:
        return charge_point_id in self.connected

    async def send_tx_profile(self, schedule: TxSchedule) -> DispatchResult:
        self.sent.append(schedule)
        queued = self.answers.get(schedule.transaction_id)
        status = queued.pop(0) if queued else "accepted"
        return DispatchResult(status, profile={"transactionId": schedule.transaction_id})

    async def verify_tx_profile(self, schedule: TxSchedule, result: DispatchResult) -> DispatchResult:
        return result

    async def send_default_profile(
        self, charge_point_id: str, limit_kw: float, *, phases: int, voltage_v: float, min_current_a: float
    ) -> DispatchResult:
        self.defaults.append((charge_point_id, limit_kw, phases, voltage_v))
        return DispatchResult("accepted")

    async def request_meter_values(self, charge_point_id: str, connector_id: int) -> bool:
        self.readings.append((charge_point_id, connector_id))
        return True


class FakeClock:
    """Stands still until `advance`d. A sleep shorter than `instant_s` (a retry's backoff) is recorded and
    returns at once; a longer one (a tick's wait for the next interval) waits until the clock passes it."""

    speed = 1.0

    def __init__(self, now: datetime, *, instant_s: float = 60.0) -> None:
        self._now = now
        self._instant_s = instant_s
        self._moved = asyncio.Event()
        self.slept: list[float] = []
        self.holds = 0

    def now(self) -> datetime:
        return self._now

    @contextmanager
    def hold(self) -> Iterator[None]:
        """Counts the holds under way (this clock stands still anyway)."""
        self.holds += 1
        try:
            yield
        finally:
            self.holds -= 1

    def advance(self, delta: timedelta) -> None:
        self._now += delta
        self._moved.set()
        self._moved = asyncio.Event()

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        if seconds < self._instant_s:
            await asyncio.sleep(0)
            return
        wake = self._now + timedelta(seconds=seconds)
        while self._now < wake:
            await self._moved.wait()


async def until(condition: Callable[[], bool], *, attempts: int = 10_000) -> None:
    """Yield to the loop until `condition` holds (a bounded number of turns, not a time)."""
    for _ in range(attempts):
        if condition():
            return
        await asyncio.sleep(0.001)
    raise AssertionError("condition never held")
