"""The scheduler: replans a site on its interval boundaries and on events, and dispatches the result.

Events that replan a site (debounced, one run at a time per site; a request during a run reruns it):
StartTransaction, StopTransaction, StatusNotification to SuspendedEV or Finishing, a charge point connecting,
booting or dropping, a charge point placed in or taken out of the site, a site's settings changed, a
forecast posted, an override changed or taking or losing effect (`wakeups`: at its exact time), an EV that
showed something new in its meter values (phases, its own ceiling, idle: `learning`), a transaction found
drawing over its limit or keeping to it again (`compliance`: recorded as a compliance event), and a profile
that could not be placed. TxDefaultProfiles go out at boot and, to every connected charge point of a site,
when the site's fallback capacity or the charge points sharing it change. A run: load the site's snapshot
(one read) → build the problem (`problem.build_plan`, pure) → solve in a worker thread → store the revision
→ send what changed (`policy`, pure) through the `ProfileSender`. What is sent, retried, capped or given up
on is the dispatch policy's call.

Where several schedulers share the sites (a scale-out layout), a `SiteShard` says which sites this one plans:
events, ticks and wake-ups of the other sites are left to their holders, and a site gained is replanned at
once. Without a shard (role `all`) the scheduler plans every site and looks nothing up.
"""

import asyncio
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from app.domain.bus import EventBus
from app.domain.events import (
    ChargePointBooted,
    ChargePointConnected,
    ChargePointDisconnected,
    ChargePointPlaced,
    Event,
    ForecastPosted,
    MeterValuesReceived,
    OverrideChanged,
    SiteChanged,
    StatusChanged,
    TransactionStarted,
    TransactionStopped,
)
from app.domain.grid import floor_to_interval
from app.domain.persistence import Store
from app.domain.ports import NO_METRICS, Clock, DispatchResult, Metrics, ProfileSender, SiteShard, TxSchedule
from app.services.errors import NotFound
from app.services.planning.compliance import ComplianceChange
from app.services.planning.defaults import DefaultProfiles
from app.services.planning.demand import HISTORY_SESSIONS
from app.services.planning.policy import DispatchState, Verdict
from app.services.planning.problem import build_plan, next_override_change
from app.services.planning.revisions import store_revision
from app.services.planning.scheduler_settings import SchedulerSettings
from app.services.planning.schedules import dispatch_row, record_compliance
from app.services.planning.solving import Solver
from app.services.planning.wakeups import Countdown, Wakeups

__all__ = ["Scheduler", "SchedulerSettings"]

log = logging.getLogger(__name__)

REPLAN_STATUSES = frozenset({"SuspendedEV", "Finishing"})
# what a default profile is made of (`policy.default_limit_kw`): a change sends the site's charge points anew
DEFAULT_PROFILE_FIELDS = frozenset(
    {"fallback_limit_kw", "grid_connection_limit_kw", "safety_margin_kw", "min_current_a"}
)


@dataclass
class _SiteState:
    pending: set[str] = field(default_factory=set)
    task: asyncio.Task[None] | None = None
    last_boundary: datetime | None = None


class Scheduler:
    def __init__(
        self,
        store: Store,
        sender: ProfileSender,
        clock: Clock,
        events: EventBus,
        settings: SchedulerSettings | None = None,
        metrics: Metrics = NO_METRICS,
        shard: SiteShard | None = None,
    ) -> None:
        self.store = store
        self.shard = shard
        self.metrics = metrics
        self.sender = sender
        self.clock = clock
        self.events = events
        self.settings = settings or SchedulerSettings()
        self.state = DispatchState(self.settings.learning, over_draw=self.settings.over_draw)
        self._sites: dict[int, _SiteState] = {}
        self._unsubscribe: list[Callable[[], None]] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._ticker: asyncio.Task[None] | None = None
        self._semaphore = asyncio.Semaphore(self.settings.dispatch_concurrency)
        self._solver = Solver(
            time_limit_s=self.settings.solve_time_limit_s, processes=self.settings.solve_processes
        )
        self._planning = asyncio.Semaphore(
            max(self.settings.plan_concurrency, self.settings.solve_processes + 2)
        )
        self._defaults = DefaultProfiles(
            store, sender, self.state,
            lambda cp_id, result: self._record(cp_id, 0, None, None, "TxDefaultProfile", result, 1),
            self._spawn, debounce_s=self.settings.debounce_s, share=self.settings.default_profile_share,
        )  # fmt: skip
        self._wakeups = Wakeups(clock, lambda site_id: self.request(site_id, "override in or out of force"))

    # -- lifecycle -------------------------------------------------------------------------------------
    async def start(self) -> None:
        self._solver.start()
        self._unsubscribe = [self.events.subscribe(self._on_event)]
        self._ticker = asyncio.get_running_loop().create_task(self._tick())

    async def stop(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._wakeups.stop()
        tasks = [t for t in (self._ticker, *self._tasks, *(s.task for s in self._sites.values())) if t]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._solver.stop()

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- triggers ----------------------------------------------------------------------------------------
    def owns(self, site_id: int) -> bool:
        """Whether this scheduler plans `site_id` (every site, unless a shard says otherwise)."""
        return self.shard is None or self.shard.owns(site_id)

    def request(self, site_id: int, trigger: str) -> None:
        """Ask for a replan of `site_id`; debounced, never more than one run per site at a time. A site
        another scheduler plans is left to it."""
        if not self.owns(site_id):
            return
        state = self._sites.setdefault(site_id, _SiteState())
        state.pending.add(trigger)
        if state.task is None or state.task.done():
            state.task = asyncio.get_running_loop().create_task(self._site_loop(site_id, state))

    async def request_all(self, trigger: str) -> None:
        """Ask for a replan of every site (a scheduler starting: what changed while it was down)."""
        async with self.store.unit_of_work() as uow:
            intervals = await uow.plans.site_intervals()
        for site_id in intervals:
            self.request(site_id, trigger)

    async def replan_now(self, site_id: int, trigger: str) -> int:
        """Plan and dispatch `site_id` now (outside the debounce); returns the revision id."""
        revision_id = await self._plan_and_dispatch(site_id, trigger)
        if revision_id is None:
            raise NotFound(f"site {site_id} not found")
        return revision_id

    async def _site_loop(self, site_id: int, state: _SiteState) -> None:
        while state.pending:
            with self.clock.hold():  # the debounce is the service's latency too: a simulation waits for it
                await asyncio.sleep(self.settings.debounce_s)
                trigger = ", ".join(sorted(state.pending))
                state.pending.clear()
                if not self.owns(site_id):
                    return  # given up meanwhile: its new holder plans it
                try:
                    await self._plan_and_dispatch(site_id, trigger)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("site %d: replan (%s) failed", site_id, trigger)

    async def _request_for_cp(self, charge_point_id: str, trigger: str) -> None:
        async with self.store.unit_of_work() as uow:
            site_id = await uow.plans.site_of(charge_point_id)
        if site_id is not None:
            self.request(site_id, trigger)

    async def _plans_for(self, event: Event) -> bool:
        """Whether the event's site is this scheduler's (looked up only when planning is sharded)."""
        match event:
            case ForecastPosted() | SiteChanged():
                return self.owns(event.site_id)
            case OverrideChanged() if event.site_id is not None:
                return self.owns(event.site_id)
            case ChargePointPlaced():
                return any(self.owns(s) for s in (event.site_id, event.previous_site_id) if s is not None)
            case StatusChanged() if event.status not in REPLAN_STATUSES:
                return False
            case MeterValuesReceived() if event.transaction_id is None:
                return False
        charge_point_id = getattr(event, "charge_point_id", None)
        if charge_point_id is None:
            return False
        async with self.store.unit_of_work() as uow:
            site_id = await uow.plans.site_of(charge_point_id)
        return site_id is not None and self.owns(site_id)

    async def _on_event(self, event: Event) -> None:
        if self.shard is not None and not await self._plans_for(event):
            return  # another scheduler's site (or none): its holder keeps its state and plans it
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
                self.state.transaction_ended(event.transaction_id)
                await self._request_for_cp(event.charge_point_id, "StopTransaction")
            case StatusChanged() if event.status in REPLAN_STATUSES:
                await self._request_for_cp(event.charge_point_id, f"StatusNotification {event.status}")
            case ChargePointBooted() if event.registration_status == "Accepted":
                self.state.charge_point_reset(event.charge_point_id, event.timestamp)
                await self._record_compliance()
                self._spawn(self._defaults.send(event.charge_point_id))
                await self._request_for_cp(event.charge_point_id, "BootNotification")
            case ChargePointConnected() | ChargePointDisconnected():
                self.state.charge_point_reset(event.charge_point_id, event.timestamp)
                await self._record_compliance()
                await self._request_for_cp(event.charge_point_id, type(event).__name__)
            case ChargePointPlaced():
                self._on_placed(event)
            case SiteChanged():
                self._on_site_changed(event)
            case MeterValuesReceived() if event.transaction_id is not None:
                if self.state.observe(event.transaction_id, event.samples):
                    changes = await self._record_compliance()
                    trigger = f"EV learnt {event.transaction_id}"
                    for change in changes:
                        found = "non-compliant" if change.non_compliant else "compliant"
                        trigger = f"{found} {change.transaction_id} ({change.reason})"
                    await self._request_for_cp(event.charge_point_id, trigger)
            case _:
                return  # other events do not change a plan

    def _on_placed(self, event: ChargePointPlaced) -> None:
        """A charge point joined, left or moved between sites: both sites are replanned and, when its site
        changed, their charge points share the fallback capacity anew (new default profiles)."""
        moved = event.site_id != event.previous_site_id
        for site_id in dict.fromkeys((event.site_id, event.previous_site_id)):
            if site_id is None or not self.owns(site_id):
                continue  # a charge point without a site gets nothing new; another scheduler's site is its
            if moved:
                self._defaults.send_to_site(site_id)
            self.request(site_id, "charge point placed")

    def _on_site_changed(self, event: SiteChanged) -> None:
        if not self.owns(event.site_id):
            return
        if event.fields & DEFAULT_PROFILE_FIELDS:
            self._defaults.send_to_site(event.site_id)
        if event.fields - {"name"}:
            self.request(event.site_id, "site changed")

    async def _tick(self) -> None:
        """Replan every site at each of its interval boundaries."""
        while True:
            now = self.clock.now()
            async with self.store.unit_of_work() as uow:
                intervals = await uow.plans.site_intervals()
            next_wake = now + timedelta(minutes=1)
            for site_id, interval_minutes in intervals.items():
                boundary = floor_to_interval(now, interval_minutes)
                state = self._sites.setdefault(site_id, _SiteState())
                if state.last_boundary is not None and boundary > state.last_boundary:
                    self.request(site_id, "interval boundary")
                state.last_boundary = boundary
                next_wake = min(next_wake, boundary + timedelta(minutes=interval_minutes))
            await self.clock.sleep(max(0.01, (next_wake - self.clock.now()).total_seconds() + 0.01))

    # -- plan and dispatch -------------------------------------------------------------------------------
    async def _plan_and_dispatch(self, site_id: int, trigger: str) -> int | None:
        with self.clock.hold():  # a simulation's time waits for the plan to be out
            return await self._plan_and_send(site_id, trigger)

    async def _plan_and_send(self, site_id: int, trigger: str) -> int | None:
        async with self._planning:
            now = self.clock.now()
            async with self.store.unit_of_work() as uow:
                snapshot = await uow.plans.snapshot(
                    site_id, now, self.settings.horizon_intervals, history=HISTORY_SESSIONS
                )
            if snapshot is None:
                return None
            self._wakeups.arm(site_id, next_override_change(snapshot, now))
            plan = build_plan(
                snapshot,
                horizon=self.settings.horizon_intervals,
                observations=self.state.observations(now),
                reserve_draw=self.settings.reserve_draw,
                now=now,
            )
            result = await self._solver.solve(plan.problem)
            planned_by = self.shard.name if self.shard is not None else None
            async with self.store.unit_of_work() as uow:
                revision_id = await store_revision(
                    uow, plan, result, trigger, created_at=now, planned_by=planned_by
                )
        log.info(
            "site %d: revision %d (%s) %s, %d sessions, %.3f s",
            site_id, revision_id, trigger, result.status.value, len(plan.sessions), result.solve_seconds,
        )  # fmt: skip
        self.metrics.replanned(result.status.value, result.solve_seconds)
        schedules = self.state.planned(plan, result, self.sender.is_connected, now)
        plan_sent = Countdown(len(schedules))
        await asyncio.gather(
            *(self._dispatch(s, revision_id, site_id, plan_sent=plan_sent) for s in schedules)
        )
        return revision_id

    async def _dispatch(
        self,
        schedule: TxSchedule,
        revision_id: int,
        site_id: int,
        attempt: int = 1,
        *,
        plan_sent: Countdown | None = None,
    ) -> None:
        try:
            async with self._semaphore:
                result = await self.sender.send_tx_profile(schedule)
            answered_at = self.clock.now()
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
        if self.state.dispatched(schedule, result, answered_at):
            self._spawn(self._read_meter(schedule.charge_point_id, schedule.connector_id))
        if result.status == "accepted":
            return
        verdict = self.state.verdict(
            schedule,
            result,
            attempt=attempt,
            attempts=self.settings.retry_attempts,
            connected=self.sender.is_connected(schedule.charge_point_id),
        )
        if verdict is Verdict.RETRY:  # in a task of its own: the plan is out, a simulation's clock runs on
            self._spawn(self._retry(schedule, revision_id, site_id, attempt))
        elif verdict is Verdict.NON_COMPLIANT:
            tx = schedule.transaction_id
            log.warning(
                "transaction %d: profile %s (%s); planned at its maximum", tx, result.status, result.reason
            )
            self.request(site_id, f"non-compliant {tx}")

    async def _retry(self, schedule: TxSchedule, revision_id: int, site_id: int, attempt: int) -> None:
        await self.clock.sleep(self.settings.retry_backoff_s * 2 ** (attempt - 1))
        if self.state.still_planned(schedule):
            await self._dispatch(schedule, revision_id, site_id, attempt + 1)

    async def _record_compliance(self) -> list[ComplianceChange]:
        """Store each change of a transaction's compliance found since the last call as an event (the API
        shows it); returns them."""
        changes = self.state.take_compliance()
        if changes:
            async with self.store.unit_of_work() as uow:
                await record_compliance(uow, changes)
        return changes

    async def _read_meter(self, charge_point_id: str, connector_id: int) -> None:
        """A meter reading a moment after new limits took effect (the EV ramps up within seconds)."""
        await self.clock.sleep(self.settings.reading_delay_s)
        await self.sender.request_meter_values(charge_point_id, connector_id)

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
        dispatch = dispatch_row(
            charge_point_id, connector_id, transaction_id, revision_id, purpose, result, attempt
        )
        await self.store.batched.record_dispatch(dispatch)  # one INSERT with the other profiles' rows
        self.metrics.profile_dispatched(purpose, result.status)
