"""A simulated OCPP 1.6J charge point: EV visits, metering and charging-profile limits.

Three kinds of task run side by side: the link to the central system (`simulator.link`), one task per
connector that walks through its planned EV visits, and the physics step that integrates energy and applies
the composite limit. Time comes from the injected clock only.
"""

import asyncio
import contextlib
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from ocpp.v16 import call
from ocpp.v16.enums import (
    AuthorizationStatus,
    ChargePointStatus,
    ChargingRateUnitType,
    MessageTrigger,
    Reason,
)

from simulator.clock import Clock
from simulator.composite import Electrical, Limit, Transaction
from simulator.config import Configuration
from simulator.connector import ActiveTransaction, Connector
from simulator.dataset import SessionPlan
from simulator.ev import EV
from simulator.link import Link, NotConnected, Timing
from simulator.metering import meter_value, ocpp_time
from simulator.outbox import Item, Outbox, SendFailed
from simulator.profiles import ProfileLimits, ProfileStore
from simulator.stats import ChargePointStats, SessionResult

UNITS = {"Current": ChargingRateUnitType.amps, "Power": ChargingRateUnitType.watts}


@dataclass(frozen=True)
class ChargePointSpec:
    """What the simulated hardware is and says about itself."""

    id: str
    connectors: int = 2
    voltage_v: float = 230.0
    max_current_a: float = 32.0
    phases: int = 3
    vendor: str = "smartcharge"
    model: str = "SimCP-22"
    firmware: str = "sim-1.0"
    password: str | None = None
    max_stack_level: int = 8
    max_periods: int = 24
    max_profiles: int = 16
    ignores_limits: bool = False  # accepts charging profiles but lets its EVs draw their own maximum

    @property
    def electrical(self) -> Electrical:
        return Electrical(self.voltage_v, self.max_current_a, self.phases, self.connectors)


@dataclass
class _Local:
    version: int = 0
    tags: dict[str, str] = field(default_factory=dict)


class SimulatedChargePoint:
    """One charge point with 1–2 connectors, each with its list of planned EV visits."""

    def __init__(
        self,
        spec: ChargePointSpec,
        url: str,
        clock: Clock,
        plans: Mapping[int, Sequence[SessionPlan]] | None = None,
        *,
        id_tags: Callable[[], str] | None = None,
        timing: Timing | None = None,
        configuration: Mapping[str, str] | None = None,
        seed: int = 0,
        validate_messages: bool = True,
        journal: bool = False,
    ):
        self.spec = spec
        self.id = spec.id
        self.clock = clock
        self.timing = timing or Timing()
        self.stats = ChargePointStats(journal=[] if journal else None, profiles=[] if journal else None)
        self.config = Configuration(
            spec.connectors,
            max_stack_level=spec.max_stack_level,
            max_periods=spec.max_periods,
            max_profiles=spec.max_profiles,
        )
        for key, value in (configuration or {}).items():
            self.config.set(key, value)
        self.connectors = {
            n: Connector(n, list((plans or {}).get(n, ()))) for n in range(1, spec.connectors + 1)
        }
        units = tuple(UNITS[u] for u in self.config.get_list("ChargingScheduleAllowedChargingRateUnit"))
        self.profiles = ProfileStore(
            spec.electrical,
            self._transaction,
            ProfileLimits(spec.max_stack_level, spec.max_periods, spec.max_profiles, units),
        )
        self.outbox = Outbox(
            lambda: self.config.get_int("TransactionMessageAttempts"),
            lambda: float(self.config.get_int("TransactionMessageRetryInterval")),
        )
        self.local_list = _Local()
        self._id_tags = id_tags or (lambda: f"{spec.id}-TAG")
        self.link = Link(self, url, spec.password, seed, validate_messages)
        self._last_step: datetime | None = None
        self._aligned_done: datetime | None = None
        self._local_tx = 0
        self._tasks: list[asyncio.Task[Any]] = []
        self._background: set[asyncio.Task[Any]] = set()
        self.status_0 = ChargePointStatus.available

    # ---- life cycle ------------------------------------------------------------------------------------

    @property
    def online(self) -> bool:
        return self.link.online

    def on_boot_accepted(self) -> None:
        """After each accepted boot, report the status of the charge point and of every connector."""
        self._queue_status(0, self.status_0)
        for connector in self.connectors.values():
            self._queue_status(connector.id, connector.status)

    def start(self) -> None:
        self._last_step = self.clock.now()
        self._tasks = [
            asyncio.create_task(self.link.run(), name=f"{self.id}-connection"),
            asyncio.create_task(self._physics_loop(), name=f"{self.id}-physics"),
            *(
                asyncio.create_task(self._connector_loop(c), name=f"{self.id}-{c.id}")
                for c in self.connectors.values()
            ),
        ]

    async def run(self, until: datetime, drain_timeout_real_s: float = 10.0) -> ChargePointStats:
        """Simulate until `until`, then end running sessions and deliver what is queued (bounded wait)."""
        self.start()
        try:
            await self._watch(until)
        finally:
            await self.stop(drain_timeout_real_s)
        return self.stats

    async def _watch(self, until: datetime) -> None:
        """Sleep until `until`; a task of this charge point that fails ends the run with its exception."""
        deadline = asyncio.create_task(self._sleep_until(until))
        pending: set[asyncio.Task[Any]] = {deadline, *self._tasks}
        try:
            while not deadline.done():
                done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    if task is not deadline and not task.cancelled() and task.exception() is not None:
                        raise RuntimeError(f"{self.id}: {task.get_name()} failed") from task.exception()
        finally:
            deadline.cancel()

    async def stop(self, drain_timeout_real_s: float = 10.0) -> None:
        connector_tasks = self._tasks[2:]
        for task in connector_tasks:
            task.cancel()
        await asyncio.gather(*connector_tasks, return_exceptions=True)
        self.stats.missed += sum(len(c.plans) - c.played for c in self.connectors.values())
        self._advance(self.clock.now())
        for connector in self.connectors.values():
            if connector.tx is not None:
                self._end_transaction(connector, Reason.other)
            self._finish_visit(connector)
        # a charge point that never got a connection will not get one while draining: no wait for it
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(drain_timeout_real_s if self.stats.connects else 0):
                await self.outbox.drained()
        for task in [*self._tasks[:2], *self._background]:
            task.cancel()
        await asyncio.gather(*self._tasks[:2], *self._background, return_exceptions=True)
        self._tasks = []

    def spawn(self, coroutine: Any) -> None:
        """Run a follow-up of a handled request (a CALL must never be awaited inside an `@on` handler)."""
        task = asyncio.create_task(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # ---- messages ---------------------------------------------------------------------------------------

    def _queue_status(self, connector_id: int, status: ChargePointStatus) -> None:
        if not self.online:
            return  # a charge point reports its current status after reconnecting instead
        timestamp = ocpp_time(self.clock.now())
        self.outbox.put(
            Item(
                lambda _: call.StatusNotification(
                    connector_id=connector_id, error_code="NoError", status=status, timestamp=timestamp
                ),
                transactional=False,
            )
        )

    def _set_status(self, connector: Connector, status: ChargePointStatus) -> None:
        if connector.status != status:
            connector.status = status
            self._queue_status(connector.id, status)

    def _queue_meter_values(
        self,
        connector: Connector,
        context: str = "Sample.Periodic",
        at: datetime | None = None,
        measurands_key: str = "MeterValuesSampledData",
    ) -> None:
        sample = meter_value(
            connector,
            set(self.config.get_list(measurands_key)),
            context,
            at or self.clock.now(),
            self.spec.phases,
        )
        tx = connector.tx
        if tx is None:
            if self.online:
                self.outbox.put(
                    Item(lambda _: call.MeterValues(connector_id=connector.id, meter_value=[sample]), False)
                )
            return
        self.outbox.put(
            Item(
                lambda tid: call.MeterValues(
                    connector_id=connector.id, transaction_id=tid, meter_value=[sample]
                ),
                transactional=True,
                local_tx=tx.local_id,
            )
        )

    # ---- physics ----------------------------------------------------------------------------------------

    def _transaction(self, connector_id: int) -> Transaction | None:
        connector = self.connectors.get(connector_id)
        if connector is None or connector.tx is None:
            return None
        return Transaction(connector.tx.server_id, connector.tx.start)

    async def _physics_loop(self) -> None:
        tick_s = max(self.timing.tick_s, self.timing.min_tick_real_s * self.clock.speed)
        while True:
            await self.clock.sleep(tick_s)
            self._advance(self.clock.now())

    def _next_aligned(self, now: datetime) -> datetime | None:
        """The next clock-aligned instant (ClockAlignedDataInterval after midnight UTC) not after `now`."""
        interval_s = self.config.get_int("ClockAlignedDataInterval")
        if interval_s <= 0:
            return None
        after = max((m for m in (self._aligned_done, self._last_step) if m is not None), default=now)
        midnight = after.replace(hour=0, minute=0, second=0, microsecond=0)
        steps = (after - midnight).total_seconds() // interval_s + 1
        candidate = midnight + timedelta(seconds=steps * interval_s)
        return candidate if candidate <= now else None

    def _integrate(self, until: datetime) -> None:
        """Energy since the last step, at the power each EV has drawn since."""
        since = self._last_step or until
        seconds = (until - since).total_seconds()
        if seconds <= 0:
            return
        self._last_step = until
        for connector in self.connectors.values():
            if connector.ev is not None and connector.tx is not None and connector.power_w > 0:
                energy_wh = connector.ev.charge(connector.power_w, seconds) * 1000
                connector.meter_wh += energy_wh
                self.stats.add_energy(since, until, energy_wh)

    def _advance(self, now: datetime) -> None:
        """Integrate up to `now` event by event: a limit changing (a profile period starting or ending) is
        applied at its instant, and periodic and clock-aligned samples are taken at theirs."""
        interval = timedelta(seconds=self.config.get_int("MeterValueSampleInterval"))
        while True:
            last = self._last_step or now
            due = [
                c
                for c in self.connectors.values()
                if interval.total_seconds() > 0
                and c.tx is not None
                and c.next_sample is not None
                and c.next_sample <= now
            ]
            aligned = self._next_aligned(now)
            change = self._next_limit_change(last, now)
            instants = [c.next_sample for c in due if c.next_sample is not None]
            instants += [moment for moment in (aligned, change) if moment is not None]
            if not instants:
                break
            at = min(instants)
            self._integrate(at)
            if at == change:
                self._allocate(at)
            for connector in due:
                if connector.next_sample == at:
                    self._queue_meter_values(connector, at=at)
                    connector.next_sample = at + interval
            if at == aligned:
                self._aligned_done = at
                for connector in self.connectors.values():
                    self._queue_meter_values(connector, "Sample.Clock", at, "MeterValuesAlignedData")
        self._integrate(now)
        self._allocate(now)
        for connector in self.connectors.values():
            self._expire(connector, now)
            if connector.tx is None:
                continue
            if connector.power_w > 0:
                self._set_status(connector, ChargePointStatus.charging)
            elif connector.ev is not None and connector.ev.max_power_w() == 0:
                self._set_status(connector, ChargePointStatus.suspended_ev)
            else:
                self._set_status(connector, ChargePointStatus.suspended_evse)

    def _next_limit_change(self, after: datetime, until: datetime) -> datetime | None:
        if not any(c.tx is not None for c in self.connectors.values()):
            return None
        changes = [
            self.profiles.next_change(n, after, until)
            for n in (0, *(c.id for c in self.connectors.values() if c.tx is not None))
        ]
        return min((c for c in changes if c is not None), default=None)

    def _allocate(self, now: datetime) -> None:
        """Each EV draws min(own maximum, connector limit); the charge point's cap is shared in proportion.
        A charge point that `ignores_limits` (a non-compliant one, to test its detection) offers every EV
        its hardware maximum whatever it was told."""
        v = self.spec.voltage_v
        limits: dict[int, Limit] = {}
        wanted: dict[int, float] = {}
        hardware = Limit(v * self.spec.max_current_a * self.spec.phases, self.spec.phases)
        for connector in self.connectors.values():
            if connector.tx is None or connector.ev is None or not connector.operative:
                continue
            limits[connector.id] = (
                hardware if self.spec.ignores_limits else self.profiles.limit(connector.id, now)
            )
            wanted[connector.id] = connector.ev.power_w(limits[connector.id], v)
        total_w = sum(wanted.values())
        cap_w = math.inf if self.spec.ignores_limits else self.profiles.limit(0, now).power_w
        scale = min(1.0, cap_w / total_w) if total_w > 0 else 1.0
        for connector in self.connectors.values():
            power, phases = 0.0, 0
            if connector.id in limits and connector.ev is not None:
                limit = limits[connector.id]
                if scale < 1.0:  # the charge point offers each EV its share of the cap
                    limit = Limit(min(limit.power_w, wanted[connector.id] * scale), limit.phases)
                power, phases = connector.ev.power_w(limit, v), connector.ev.phases_used(limit)
            connector.power_w = power
            connector.phases_used = phases if power > 0 else 0
            connector.current_a = power / (v * phases) if power > 0 else 0.0

    def _expire(self, connector: Connector, now: datetime) -> None:
        if connector.reservation is not None and now >= connector.reservation.expiry:
            connector.reservation = None
            if connector.ev is None:
                self._set_status(connector, connector.idle_status())
        if connector.remote_start is not None and now >= connector.remote_start.expiry:
            connector.remote_start = None
            if connector.ev is None:
                self._set_status(connector, connector.idle_status())

    # ---- EV visits --------------------------------------------------------------------------------------

    async def _sleep_until(self, moment: datetime) -> None:
        await self.clock.sleep((moment - self.clock.now()).total_seconds())

    async def _wait(self, event: asyncio.Event, until: datetime) -> bool:
        """Wait for `event` or the instant `until`, whichever is first; True if the event came."""
        if event.is_set():
            return True
        waiter = asyncio.ensure_future(event.wait())
        sleeper = asyncio.ensure_future(self._sleep_until(until))
        try:
            await asyncio.wait({waiter, sleeper}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiter.cancel()
            sleeper.cancel()
        return event.is_set()

    async def _connector_loop(self, connector: Connector) -> None:
        for plan in connector.plans:
            await self._sleep_until(plan.arrival)
            connector.played += 1
            now = self.clock.now()
            if now >= plan.departure:
                self.stats.missed += 1
                continue
            if not connector.operative or connector.ev is not None or connector.reservation is not None:
                self.stats.turned_away += 1
                continue
            await self._visit(connector, plan)

    async def play(self, connector_id: int, plan: SessionPlan) -> SessionResult:
        """One EV visit to a connector now, outside its planned ones (a scripted session): plug in, authorise,
        charge under the limits in force until the plan's departure, stop. A driver whose tag is refused
        leaves at once. The charge point must be running (`start()`); a task of it that fails ends the
        visit with its exception."""
        connector = self.connectors[connector_id]
        visit = asyncio.create_task(self._visit(connector, plan, linger=False), name=f"{self.id}-script")
        pending: set[asyncio.Task[Any]] = {visit, *self._tasks[:2]}
        try:
            while not visit.done():
                done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                for task in done - {visit}:
                    if not task.cancelled() and task.exception() is not None:
                        raise RuntimeError(f"{self.id}: {task.get_name()} failed") from task.exception()
        finally:
            visit.cancel()
        return await visit

    async def _visit(self, connector: Connector, plan: SessionPlan, linger: bool = True) -> SessionResult:
        remote = connector.remote_start
        tag = remote.id_tag if remote is not None else self._id_tags()
        connector.remote_start = None
        connector.ev = EV(plan.ev, plan.initial_soc, plan.target_soc)
        connector.result = result = SessionResult(
            self.id,
            connector.id,
            plan.ev.name,
            tag,
            plan.arrival,
            plan.departure,
            plan.energy_kwh,
            initial_soc=plan.initial_soc,
            battery_kwh=plan.ev.battery_kwh,
            ev_max_kw=plan.ev.max_ac_kw,
            ev_phases=plan.ev.phases,
            voltage_v=self.spec.voltage_v,
            connector_max_current_a=self.spec.max_current_a,
            connector_phases=self.spec.phases,
        )
        self.stats.sessions.append(connector.result)
        self._set_status(connector, ChargePointStatus.preparing)
        authorized = remote is not None and not self.config.get_bool("AuthorizeRemoteTxRequests")
        if not authorized:
            connector.result.authorization = await self._authorize(tag)
            authorized = connector.result.authorization == AuthorizationStatus.accepted
        if not authorized:  # the driver gives up; the connector stays Preparing until the cable is out
            connector.result.authorized = False
            if linger:
                await self._sleep_until(plan.departure)
            self._finish_visit(connector)
            return result
        self._begin_transaction(connector, tag)
        if remote is not None and remote.profile is not None:
            self.profiles.set(connector.id, remote.profile, self.clock.now())
            self.apply_limits()
        departed = not await self._wait(connector.stop_requested, plan.departure)
        if connector.tx is not None:
            self._end_transaction(
                connector, Reason.local if departed else connector.stop_reason or Reason.other
            )
        if not departed:
            await self._sleep_until(plan.departure)
        else:
            await self.clock.sleep(self.timing.finishing_s)
        self._finish_visit(connector)
        return result

    async def _authorize(self, tag: str) -> str:
        """The tag's status: from the local list, else the central system's answer, else (offline) Accepted
        or Invalid by LocalAuthorizeOffline and AllowOfflineTxForUnknownId."""
        if self.config.get_bool("LocalAuthListEnabled") and tag in self.local_list.tags:
            return self.local_list.tags[tag]
        try:
            response = await self.link.call(call.Authorize(id_tag=tag))
        except (NotConnected, SendFailed):
            offline = self.config.get_bool("LocalAuthorizeOffline") and self.config.get_bool(
                "AllowOfflineTxForUnknownId"
            )
            return str(AuthorizationStatus.accepted if offline else AuthorizationStatus.invalid)
        return str(response.id_tag_info.get("status"))

    def _begin_transaction(self, connector: Connector, tag: str) -> None:
        now = self.clock.now()
        self._advance(now)
        self._local_tx += 1
        reservation = connector.reservation
        connector.reservation = None
        tx = ActiveTransaction(
            self._local_tx,
            tag,
            now,
            round(connector.meter_wh),
            reservation_id=reservation.reservation_id if reservation else None,
        )
        connector.tx = tx
        connector.stop_requested.clear()
        connector.stop_reason = None
        connector.next_sample = now + timedelta(
            seconds=max(1, self.config.get_int("MeterValueSampleInterval"))
        )
        timestamp = ocpp_time(now)
        result = connector.result

        def started(response: Any) -> None:
            if connector.tx is tx:
                tx.server_id = response.transaction_id
            if result is not None:
                result.transaction_id = response.transaction_id
            status = response.id_tag_info.get("status")
            if (
                status != "Accepted"
                and self.config.get_bool("StopTransactionOnInvalidId")
                and connector.tx is tx
            ):
                connector.request_stop(Reason.de_authorized)

        self.outbox.put(
            Item(
                lambda _: call.StartTransaction(
                    connector_id=connector.id,
                    id_tag=tag,
                    meter_start=tx.meter_start_wh,
                    timestamp=timestamp,
                    reservation_id=tx.reservation_id,
                ),
                transactional=True,
                local_tx=tx.local_id,
                on_result=started,
                starts_transaction=True,
            )
        )
        self._allocate(now)
        self._set_status(
            connector,
            ChargePointStatus.charging if connector.power_w > 0 else ChargePointStatus.suspended_evse,
        )

    def _end_transaction(self, connector: Connector, reason: str) -> None:
        tx = connector.tx
        assert tx is not None
        now = self.clock.now()
        self._advance(now)
        meter_stop = round(connector.meter_wh)
        timestamp = ocpp_time(now)
        self.outbox.put(
            Item(
                lambda tid: call.StopTransaction(
                    meter_stop=meter_stop,
                    timestamp=timestamp,
                    transaction_id=tid,
                    reason=reason,
                    id_tag=tx.id_tag,
                ),
                transactional=True,
                local_tx=tx.local_id,
            )
        )
        if connector.result is not None:
            connector.result.delivered_kwh = (meter_stop - tx.meter_start_wh) / 1000
            connector.result.stop_reason = reason
        connector.tx = None
        connector.power_w = connector.current_a = 0.0
        connector.phases_used = 0
        connector.next_sample = None
        self.profiles.end_transaction(connector.id)
        if connector.unavailable_after_transaction:
            connector.operative, connector.unavailable_after_transaction = False, False
        self._set_status(connector, ChargePointStatus.finishing)

    def _finish_visit(self, connector: Connector) -> None:
        connector.ev = None
        connector.result = None
        self._set_status(connector, connector.idle_status())

    # ---- follow-ups the central system can ask for -----------------------------------------------------

    async def trigger(self, message: MessageTrigger, connector_id: int | None) -> None:
        targets = [connector_id] if connector_id else list(self.connectors)
        with contextlib.suppress(NotConnected, SendFailed):
            if message == MessageTrigger.boot_notification:
                await self.link.call(
                    call.BootNotification(
                        charge_point_vendor=self.spec.vendor, charge_point_model=self.spec.model
                    )
                )
            elif message == MessageTrigger.heartbeat:
                await self.link.call(call.Heartbeat())
            elif message == MessageTrigger.status_notification:
                if connector_id in (None, 0):
                    self._queue_status(0, self.status_0)
                for n in targets:
                    if n in self.connectors:
                        self._queue_status(n, self.connectors[n].status)
            elif message == MessageTrigger.meter_values:
                for n in targets:
                    if n in self.connectors:
                        self._queue_meter_values(self.connectors[n], "Trigger")
            elif message == MessageTrigger.diagnostics_status_notification:
                await self.link.call(call.DiagnosticsStatusNotification(status="Idle"))
            elif message == MessageTrigger.firmware_status_notification:
                await self.link.call(call.FirmwareStatusNotification(status="Idle"))

    async def reset(self, kind: str) -> None:
        reason = Reason.hard_reset if kind == "Hard" else Reason.soft_reset
        for connector in self.connectors.values():
            if connector.tx is not None:
                self._end_transaction(connector, reason)
                connector.request_stop(reason)
        await self.clock.sleep(1)
        self.link.reconnect()

    async def upload_diagnostics(self) -> None:
        with contextlib.suppress(NotConnected, SendFailed):
            await self.link.call(call.DiagnosticsStatusNotification(status="Uploading"))
            await self.clock.sleep(5)
            await self.link.call(call.DiagnosticsStatusNotification(status="Uploaded"))

    async def update_firmware(self, retrieve: datetime) -> None:
        await self._sleep_until(retrieve)
        with contextlib.suppress(NotConnected, SendFailed):
            for status in ("Downloading", "Downloaded", "Installing", "Installed"):
                await self.link.call(call.FirmwareStatusNotification(status=status))
                await self.clock.sleep(10)

    def set_availability(self, connector_id: int, operative: bool) -> str:
        targets = list(self.connectors.values()) if connector_id == 0 else [self.connectors[connector_id]]
        scheduled = False
        if connector_id == 0:
            self.status_0 = ChargePointStatus.available if operative else ChargePointStatus.unavailable
            self._queue_status(0, self.status_0)
        for connector in targets:
            if not operative and connector.tx is not None:
                connector.unavailable_after_transaction = True
                scheduled = True
                continue
            connector.operative = operative
            connector.unavailable_after_transaction = False
            if connector.ev is None:
                self._set_status(connector, connector.idle_status())
        return "Scheduled" if scheduled else "Accepted"

    def apply_limits(self) -> None:
        """A profile changed: account for the energy so far, then draw under the new limits."""
        self._advance(self.clock.now())

    def refresh_status(self, connector: Connector) -> None:
        if connector.ev is None:
            self._set_status(connector, connector.idle_status())

    def find_transaction(self, transaction_id: int) -> Connector | None:
        for connector in self.connectors.values():
            if connector.tx is not None and connector.tx.server_id == transaction_id:
                return connector
        return None

    def stop_transaction(self, connector: Connector, reason: str) -> None:
        """Stop now (remote stop, unlock): the EV stays plugged in until its departure."""
        if connector.tx is not None:
            self._end_transaction(connector, reason)
            connector.request_stop(reason)
