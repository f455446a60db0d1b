"""Domain events published by the OCPP gateway after a commit, and a small in-process event bus.

Subscribers (the scheduler, later) receive every event and pick the types they care about.
Handlers run as tasks: a slow or failing subscriber never delays or breaks the gateway.
"""

import asyncio
import functools
import inspect
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChargePointConnected:
    charge_point_id: str
    timestamp: datetime


@dataclass(frozen=True)
class ChargePointDisconnected:
    charge_point_id: str
    timestamp: datetime


@dataclass(frozen=True)
class ChargePointBooted:
    charge_point_id: str
    registration_status: str
    vendor: str
    model: str
    timestamp: datetime


@dataclass(frozen=True)
class StatusChanged:
    """A connector's live status changed (connector 0 is the charge point as a whole)."""

    charge_point_id: str
    connector_id: int
    status: str
    timestamp: datetime


@dataclass(frozen=True)
class TransactionStarted:
    transaction_id: int
    charge_point_id: str
    connector_id: int
    id_tag: str
    timestamp: datetime
    meter_start_wh: int


@dataclass(frozen=True)
class TransactionStopped:
    transaction_id: int
    charge_point_id: str
    connector_id: int
    id_tag: str
    timestamp: datetime
    meter_stop_wh: int
    reason: str | None


@dataclass(frozen=True)
class MeterSample:
    """One meterValue element reduced to what scheduling needs; `None` where the charge point sent nothing.

    `power_w` is the active import power (sum of phases when only per-phase values came), `energy_wh`
    the active import register, `current_a` the highest phase current, `soc_percent` the EV's state of charge.
    """

    timestamp: datetime
    power_w: float | None = None
    energy_wh: float | None = None
    current_a: float | None = None
    soc_percent: float | None = None


@dataclass(frozen=True)
class MeterValuesReceived:
    """New meter values of a charge point; `samples` (one `MeterSample` per meterValue element) is worked
    out by `summarise` when first read, since most subscribers only look at it for some transactions."""

    charge_point_id: str
    connector_id: int
    transaction_id: int | None
    summarise: Callable[[], tuple[MeterSample, ...]] = field(repr=False, compare=False)

    @functools.cached_property
    def samples(self) -> tuple[MeterSample, ...]:
        return self.summarise()


@dataclass(frozen=True)
class ForecastPosted:
    """A new capacity forecast was committed (not sent for an idempotent replay).

    Published through `app.services.forecasts.forecast_posted`, not the gateway's bus.
    """

    site_id: int
    forecast_pk: int
    starts_at: datetime
    ends_at: datetime


@dataclass(frozen=True)
class OverrideChanged:
    """An override was created, updated or deleted and the change committed.

    Published through `app.services.overrides.override_changed`, not the gateway's bus.
    """

    override_id: int
    action: str  # "created" | "updated" | "deleted"
    scope: str
    site_id: int | None
    charge_point_id: str | None
    transaction_id: int | None
    valid_from: datetime
    valid_until: datetime | None


Event = (
    ChargePointConnected
    | ChargePointDisconnected
    | ChargePointBooted
    | StatusChanged
    | TransactionStarted
    | TransactionStopped
    | MeterValuesReceived
)

EventHandler = Callable[[Event], Awaitable[None] | None]


class EventBus:
    """In-process publish/subscribe. `publish` never raises and never waits for subscribers."""

    def __init__(self) -> None:
        self._handlers: list[EventHandler] = []
        self._tasks: set[asyncio.Task[None]] = set()

    def subscribe(self, handler: EventHandler) -> Callable[[], None]:
        """Register `handler` (sync or async) for every event; returns a function that unsubscribes it."""
        self._handlers.append(handler)

        def unsubscribe() -> None:
            if handler in self._handlers:
                self._handlers.remove(handler)

        return unsubscribe

    def publish(self, event: Event) -> None:
        for handler in list(self._handlers):
            task = asyncio.get_running_loop().create_task(self._run(handler, event))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        """Wait until every handler started so far has finished (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    @staticmethod
    async def _run(handler: EventHandler, event: Event) -> None:
        try:
            result = handler(event)
            if inspect.isawaitable(result):
                await result
        except Exception:
            log.exception("event handler %r failed on %r", handler, event)
