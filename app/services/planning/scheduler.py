"""The scheduler: replans a site on its interval boundaries and on events, and dispatches the result.

Events that replan a site (debounced, one run at a time per site; a request during a run reruns it):
StartTransaction, StopTransaction, StatusNotification to SuspendedEV or Finishing, a charge point connecting,
booting or dropping, a forecast posted, an override changed, a meter deviation (an EV drawing well below its
allocation for two samples in a row: its allocation is lowered to what it draws, the headroom goes to others),
and a profile that could not be placed. The solve runs in a worker thread. A profile is sent only when it
changes what the charge point was told; a rejected or unanswered one is retried with backoff, then the
transaction is marked non-compliant and planned as drawing its maximum.
"""

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import anyio
from sqlalchemy import insert
from sqlmodel import func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.engine import Database
from app.db.sql import core_table
from app.db.tables.ocpp import charge_point_table, connector_table
from app.domain.bus import EventBus
from app.domain.clock import utcnow
from app.domain.events import (
    ChargePointBooted,
    ChargePointConnected,
    ChargePointDisconnected,
    Event,
    ForecastPosted,
    MeterValuesReceived,
    OverrideChanged,
    StatusChanged,
    TransactionStarted,
    TransactionStopped,
)
from app.domain.ocpp import ChargePoint
from app.domain.planning import ProfileDispatch, Site
from app.domain.ports import Clock, DispatchResult, ProfileSender, TxSchedule
from app.services.planning import plan as planning
from app.services.planning.capacity import floor_to_interval

log = logging.getLogger(__name__)

REPLAN_STATUSES = frozenset({"SuspendedEV", "Finishing"})


@dataclass(frozen=True)
class SchedulerSettings:
    horizon_intervals: int = 96
    debounce_s: float = 0.05
    solve_time_limit_s: float = 10.0
    dispatch_concurrency: int = 200
    retry_attempts: int = 3
    retry_backoff_s: float = 2.0
    readback_wait_max_s: float = 2.0  # read-backs wait for the plan's other sends, at most this long
    deviation_ratio: float = 0.8  # measured below this share of the allocation …
    deviation_min_kw: float = 1.0  # … and by at least this much counts as a deviation
    deviation_samples: int = 2
    default_profile_share: float = (
        1.0  # share of the site's fallback capacity the TxDefaultProfiles add up to
    )


@dataclass
class _SentProfile:
    start: datetime
    interval_min: int
    power_kw: tuple[float, ...]

    def end(self) -> datetime:
        return self.start + timedelta(minutes=self.interval_min * len(self.power_kw))

    def at(self, when: datetime) -> float | None:
        index = int((when - self.start).total_seconds() // (self.interval_min * 60))
        return self.power_kw[index] if 0 <= index < len(self.power_kw) else None


@dataclass
class _SiteState:
    pending: set[str] = field(default_factory=set)
    task: asyncio.Task[None] | None = None
    last_boundary: datetime | None = None


class _Countdown:
    """Set once `count_down` has been called `n` times: the sends of one plan, before their read-backs."""

    def __init__(self, n: int) -> None:
        self._left = n
        self._done = asyncio.Event()
        if n <= 0:
            self._done.set()

    def count_down(self) -> None:
        self._left -= 1
        if self._left <= 0:
            self._done.set()

    async def wait(self, timeout_s: float) -> None:
        """Until set, or `timeout_s` at most (one charge point that does not answer holds nobody up)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._done.wait(), timeout_s)


class Scheduler:
    def __init__(
        self,
        database: Database,
        sender: ProfileSender,
        clock: Clock,
        events: EventBus,
        settings: SchedulerSettings | None = None,
    ) -> None:
        self.database = database
        self.sender = sender
        self.clock = clock
        self.events = events
        self.settings = settings or SchedulerSettings()
        self.non_compliant: set[int] = set()
        self._sites: dict[int, _SiteState] = {}
        self._sent: dict[int, _SentProfile] = {}  # transaction → what its charge point was told
        self._cp_of: dict[int, str] = {}  # transaction → its charge point
        self._allocation: dict[int, _SentProfile] = {}  # transaction → latest plan
        self._observed: dict[int, tuple[float, datetime]] = {}  # transaction → (kW it draws, until)
        self._deviations: dict[int, int] = {}
        self._unsubscribe: list[Callable[[], None]] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._ticker: asyncio.Task[None] | None = None
        self._semaphore = asyncio.Semaphore(self.settings.dispatch_concurrency)

    # -- lifecycle -------------------------------------------------------------------------------------
    async def start(self) -> None:
        self._unsubscribe = [self.events.subscribe(self._on_event)]
        self._ticker = asyncio.get_running_loop().create_task(self._tick())

    async def stop(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        tasks = [t for t in (self._ticker, *self._tasks, *(s.task for s in self._sites.values())) if t]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- triggers ----------------------------------------------------------------------------------------
    def request(self, site_id: int, trigger: str) -> None:
        """Ask for a replan of `site_id`; debounced, never more than one run per site at a time."""
        state = self._sites.setdefault(site_id, _SiteState())
        state.pending.add(trigger)
        if state.task is None or state.task.done():
            state.task = asyncio.get_running_loop().create_task(self._site_loop(site_id, state))

    async def replan_now(self, site_id: int, trigger: str) -> int:
        """Plan and dispatch `site_id` now (outside the debounce); returns the revision id."""
        return await self._plan_and_dispatch(site_id, trigger)

    async def _site_loop(self, site_id: int, state: _SiteState) -> None:
        while state.pending:
            await asyncio.sleep(self.settings.debounce_s)
            trigger = ", ".join(sorted(state.pending))
            state.pending.clear()
            try:
                await self._plan_and_dispatch(site_id, trigger)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("site %d: replan (%s) failed", site_id, trigger)

    async def _site_of(self, charge_point_id: str) -> int | None:
        async with self.database.session() as session:
            return (
                await session.exec(
                    select(charge_point_table.c.site_id).where(charge_point_table.c.id == charge_point_id)
                )
            ).first()

    async def _request_for_cp(self, charge_point_id: str, trigger: str) -> None:
        site_id = await self._site_of(charge_point_id)
        if site_id is not None:
            self.request(site_id, trigger)

    async def _on_event(self, event: Event) -> None:
        match event:
            case ForecastPosted():
                self.request(event.site_id, "forecast posted")
            case OverrideChanged() if event.site_id is not None:
                self.request(event.site_id, f"override {event.action}")
            case OverrideChanged() if event.charge_point_id is not None:
                await self._request_for_cp(event.charge_point_id, f"override {event.action}")
            case TransactionStarted():
                await self._request_for_cp(event.charge_point_id, "StartTransaction")
            case TransactionStopped():
                tx = event.transaction_id
                self._sent.pop(tx, None)
                self._allocation.pop(tx, None)
                self._observed.pop(tx, None)
                self._cp_of.pop(tx, None)
                self.non_compliant.discard(tx)
                await self._request_for_cp(event.charge_point_id, "StopTransaction")
            case StatusChanged() if event.status in REPLAN_STATUSES:
                await self._request_for_cp(event.charge_point_id, f"StatusNotification {event.status}")
            case ChargePointBooted() if event.registration_status == "Accepted":
                self._forget_charge_point(event.charge_point_id)
                self._spawn(self._send_default_profile(event.charge_point_id))
                await self._request_for_cp(event.charge_point_id, "BootNotification")
            case ChargePointConnected() | ChargePointDisconnected():
                self._forget_charge_point(event.charge_point_id)
                await self._request_for_cp(event.charge_point_id, type(event).__name__)
            case MeterValuesReceived() if event.transaction_id is not None:
                if self._deviates(event):
                    await self._request_for_cp(
                        event.charge_point_id, f"meter deviation {event.transaction_id}"
                    )
            case _:
                return  # other events do not change a plan

    def _forget_charge_point(self, charge_point_id: str) -> None:
        """After a reconnect or reboot the charge point may have lost its profiles: send them again."""
        transactions = {tx for tx, cp in self._cp_of.items() if cp == charge_point_id}
        for tx in transactions:
            self._sent.pop(tx, None)
        self.non_compliant -= transactions

    def _deviates(self, event: MeterValuesReceived) -> bool:
        tx = event.transaction_id
        assert tx is not None
        plan = self._allocation.get(tx)
        for sample in event.samples:
            if sample.power_w is None or plan is None:
                continue
            allocated_kw = plan.at(sample.timestamp)
            measured_kw = sample.power_w / 1000
            if (
                allocated_kw is not None
                and measured_kw < allocated_kw * self.settings.deviation_ratio
                and allocated_kw - measured_kw >= self.settings.deviation_min_kw
            ):
                self._deviations[tx] = self._deviations.get(tx, 0) + 1
            else:
                self._deviations[tx] = 0
            if self._deviations[tx] >= self.settings.deviation_samples:
                self._deviations[tx] = 0
                until = sample.timestamp + timedelta(minutes=4 * plan.interval_min)
                self._observed[tx] = (max(measured_kw * 1.1, 0.5), until)
                return True
        return False

    async def _tick(self) -> None:
        """Replan every site at each of its interval boundaries."""
        while True:
            now = self.clock.now()
            async with self.database.session() as session:
                sites = list((await session.exec(select(Site))).all())
            next_wake = now + timedelta(minutes=1)
            for site in sites:
                assert site.id is not None
                boundary = floor_to_interval(now, site.interval_minutes)
                state = self._sites.setdefault(site.id, _SiteState())
                if state.last_boundary is not None and boundary > state.last_boundary:
                    self.request(site.id, "interval boundary")
                state.last_boundary = boundary
                next_wake = min(next_wake, boundary + timedelta(minutes=site.interval_minutes))
            await self.clock.sleep(max(0.01, (next_wake - self.clock.now()).total_seconds() + 0.01))

    # -- plan and dispatch -------------------------------------------------------------------------------
    async def _plan_and_dispatch(self, site_id: int, trigger: str) -> int:
        now = self.clock.now()
        self._observed = {tx: v for tx, v in self._observed.items() if v[1] > now}
        async with self.database.session() as session:
            plan = await planning.build_plan(
                session,
                site_id,
                now,
                horizon=self.settings.horizon_intervals,
                non_compliant=self.non_compliant,
                observed_max_kw={tx: kw for tx, (kw, _) in self._observed.items()},
            )
        result = await anyio.to_thread.run_sync(
            lambda: planning.solve_plan(plan, time_limit_s=self.settings.solve_time_limit_s)
        )
        async with self.database.session() as session:
            revision = await planning.store_revision(session, plan, result, trigger, created_at=now)
        assert revision.id is not None
        log.info(
            "site %d: revision %d (%s) %s, %d sessions, %.3f s",
            site_id, revision.id, trigger, result.status.value, len(plan.sessions), result.solve_seconds,
        )  # fmt: skip
        schedules = []
        for key, ps in plan.sessions.items():
            self._cp_of[ps.transaction_id] = ps.charge_point_id
            power = tuple(result.schedules[key].power_kw)
            self._allocation[ps.transaction_id] = _SentProfile(
                plan.problem.start, plan.problem.interval_min, power
            )
            if ps.assumption != "planned" or not self.sender.is_connected(ps.charge_point_id):
                continue
            schedule = TxSchedule(
                ps.charge_point_id, ps.connector_id, ps.transaction_id, plan.problem.start,
                plan.problem.interval_min, power, ps.phases, ps.voltage_v,
            )  # fmt: skip
            if self._changed(schedule, now):
                schedules.append(schedule)
        plan_sent = _Countdown(len(schedules))
        await asyncio.gather(
            *(self._dispatch(s, revision.id, site_id, plan_sent=plan_sent) for s in schedules)
        )
        return revision.id

    def _changed(self, schedule: TxSchedule, now: datetime) -> bool:
        """Whether the charge point must be told: the plan differs from what it has, or that runs out soon."""
        sent = self._sent.get(schedule.transaction_id)
        if sent is None:
            return True
        new = _SentProfile(schedule.start, schedule.interval_min, schedule.power_kw)
        if (sent.end() - now) < (new.end() - now) / 2:
            return True
        step = timedelta(minutes=schedule.interval_min)
        offset, rest = divmod(schedule.start - sent.start, step)
        if sent.interval_min == new.interval_min and not rest and offset >= 0:
            # the same grid: compare the overlapping intervals as slices, not instant by instant
            overlap = zip(sent.power_kw[offset:], new.power_kw, strict=False)
            return any(abs(old_kw - new_kw) > 1e-6 for old_kw, new_kw in overlap)
        t = schedule.start
        while t < min(sent.end(), new.end()):
            old_kw, new_kw = sent.at(t), new.at(t)
            if old_kw is None or new_kw is None or abs(old_kw - new_kw) > 1e-6:
                return True
            t += step
        return False

    async def _dispatch(
        self,
        schedule: TxSchedule,
        revision_id: int,
        site_id: int,
        attempt: int = 1,
        *,
        plan_sent: _Countdown | None = None,
    ) -> None:
        try:
            async with self._semaphore:
                result = await self.sender.send_tx_profile(schedule)
        finally:
            if plan_sent is not None:
                plan_sent.count_down()
        if result.status == "accepted":
            if plan_sent is not None:  # read back once the plan's profiles are out (CPU goes to them first)
                await plan_sent.wait(self.settings.readback_wait_max_s)
            async with self._semaphore:
                result = await self.sender.verify_tx_profile(schedule, result)
        await self._record(schedule.charge_point_id, schedule.connector_id, schedule.transaction_id,
                           revision_id, "TxProfile", result, attempt)  # fmt: skip
        tx = schedule.transaction_id
        if result.status == "accepted":
            self._sent[tx] = _SentProfile(schedule.start, schedule.interval_min, schedule.power_kw)
            return
        self._sent.pop(tx, None)
        if result.status == "not_sent" and not self.sender.is_connected(schedule.charge_point_id):
            return  # offline: the next plan assumes its maximum
        if attempt < self.settings.retry_attempts and result.status != "not_sent":
            await self.clock.sleep(self.settings.retry_backoff_s * 2 ** (attempt - 1))
            current = self._allocation.get(tx)
            if (
                current is not None
                and current.start == schedule.start
                and current.power_kw == schedule.power_kw
            ):
                await self._dispatch(schedule, revision_id, site_id, attempt + 1)
            return
        if tx not in self._allocation:
            return  # the transaction ended meanwhile (a charge point rejects a profile for it then)
        log.warning(
            "transaction %d: profile %s (%s); planned at its maximum", tx, result.status, result.reason
        )
        self.non_compliant.add(tx)
        self.request(site_id, f"non-compliant {tx}")

    async def _record(
        self,
        charge_point_id: str,
        connector_id: int,
        transaction_id: int | None,
        revision_id: int | None,
        purpose: str,
        result: DispatchResult,
        attempt: int,
    ) -> None:
        row = {
            "transaction_id": transaction_id,
            "revision_id": revision_id,
            "charge_point_id": charge_point_id,
            "connector_id": connector_id,
            "purpose": purpose,
            "profile": result.profile,
            "command_id": result.command_id,
            "status": result.status,
            "reason": result.reason,
            "attempt": attempt,
            "verified": result.verified,
            "verify_detail": result.verify_detail,
            "created_at": utcnow(),
        }
        await self.database.run_bulk(_insert_dispatches, row)  # one INSERT with the other profiles' rows

    async def _send_default_profile(self, charge_point_id: str) -> None:
        """At boot: a TxDefaultProfile that keeps the site safe while the central system is unreachable."""
        async with self.database.session() as session:
            cp = await session.get(ChargePoint, charge_point_id)
            if cp is None or cp.site_id is None:
                return
            site = await session.get(Site, cp.site_id)
            # Every registered charge point of the site counts, with at least one connector, so that the
            # first boots of a fleet (no connectors known yet) don't each get the whole site.
            site_cps = list(
                (
                    await session.exec(
                        select(charge_point_table.c.id).where(charge_point_table.c.site_id == cp.site_id)
                    )
                ).all()
            )
            known: dict[str, int] = dict(
                (
                    await session.exec(
                        select(connector_table.c.charge_point_id, func.count())
                        .where(
                            connector_table.c.charge_point_id.in_(site_cps),
                            connector_table.c.connector_id > 0,
                        )
                        .group_by(connector_table.c.charge_point_id)
                    )
                ).all()
            )
            connectors = sum(max(1, known.get(cp_id, 0)) for cp_id in site_cps)
            phases = (
                await session.exec(
                    select(connector_table.c.phases).where(
                        connector_table.c.charge_point_id == charge_point_id,
                        connector_table.c.connector_id > 0,
                    )
                )
            ).first()
        if site is None:
            return
        safe_kw = max(0.0, min(site.fallback_limit_kw, site.grid_connection_limit_kw) - site.safety_margin_kw)
        limit_kw = safe_kw * self.settings.default_profile_share / max(1, connectors)
        result = await self.sender.send_default_profile(charge_point_id, limit_kw, phases or 3)
        await self._record(charge_point_id, 0, None, None, "TxDefaultProfile", result, 1)


async def _insert_dispatches(session: AsyncSession, rows: list[dict[str, Any]]) -> list[None]:
    """Many `ProfileDispatch` rows as one Core executemany INSERT (no ORM object per row)."""
    table = core_table(ProfileDispatch)
    await session.exec(insert(table), params=rows)
    return [None] * len(rows)
