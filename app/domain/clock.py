"""Time as the service sees it: the real UTC clock, or one scaled for an accelerated simulation.

Scaled time is a linear function of the wall clock, so that separate processes configured alike (the
service and the simulated fleet) agree::

    sim_now = start + (wall_now - anchor) * speed
"""

import asyncio
import contextlib
import os
import time
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta

SPEED_ENV = "SMARTCHARGE_CLOCK_SPEED"
START_ENV = "SMARTCHARGE_CLOCK_START"
ANCHOR_ENV = "SMARTCHARGE_CLOCK_ANCHOR"


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """`moment` in UTC; a naive value is taken as UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def parse_instant(text: str) -> datetime:
    """An ISO 8601 instant; `Z` accepted; a naive value is taken as UTC."""
    return as_utc(datetime.fromisoformat(text.strip().replace("Z", "+00:00")))


class SystemClock:
    """The real UTC clock. Tests and the accelerated simulation inject a `ScaledClock` instead."""

    speed = 1.0

    def now(self) -> datetime:
        return datetime.now(UTC)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))

    def hold(self) -> contextlib.AbstractContextManager[None]:
        """Real time never stops: a no-op."""
        return contextlib.nullcontext()


class ScaledClock:
    """Simulated time running `speed` times faster than the wall clock; `speed=1` is real time.

    `start` is the simulated instant at the wall-clock instant `anchor` (both default to now).

    With `holdable`, `hold()` stops simulated time while the service works (plans, dispatches), as if
    the service took no time next to an EV's minutes: on an accelerated clock its fraction of a second of
    latency would otherwise count hundreds of times over. Only for a clock that every party of the
    simulation shares in one process; a clock rebuilt elsewhere from the same anchor would not stop.
    """

    def __init__(
        self,
        speed: float = 1.0,
        start: datetime | None = None,
        anchor: datetime | None = None,
        *,
        holdable: bool = False,
    ):
        if not speed > 0:
            raise ValueError(f"clock speed must be positive, got {speed}")
        wall = datetime.fromtimestamp(time.time(), UTC)
        self._speed = float(speed)
        self._start = as_utc(start) if start is not None else wall
        self._anchor_s = (as_utc(anchor) if anchor is not None else wall).timestamp()
        self._holdable = holdable
        self._holds = 0
        self._released: asyncio.Event | None = None
        self.held_s = 0.0  # wall seconds simulated time stood still

    @property
    def speed(self) -> float:
        return self._speed

    def now(self) -> datetime:
        wall_s = self._anchor_s if self._holds else time.time()
        return self._start + timedelta(seconds=(wall_s - self._anchor_s) * self._speed)

    async def sleep(self, seconds: float) -> None:
        if not self._holdable:
            await asyncio.sleep(max(0.0, seconds) / self._speed)
            return
        wake = self.now() + timedelta(seconds=max(0.0, seconds))
        while (left_s := (wake - self.now()).total_seconds()) > 0:
            if self._holds:
                assert self._released is not None
                await self._released.wait()
            else:
                await asyncio.sleep(left_s / self._speed)

    @contextlib.contextmanager
    def hold(self) -> Iterator[None]:
        """Simulated time stands still inside (nested holds too); a no-op unless `holdable`."""
        if not self._holdable:
            yield
            return
        if not self._holds:
            self._start = self.now()
            self._anchor_s = time.time()
            self._released = asyncio.Event()
        self._holds += 1
        try:
            yield
        finally:
            self._holds -= 1
            if not self._holds:
                wall_s = time.time()
                self.held_s += wall_s - self._anchor_s
                self._anchor_s = wall_s
                assert self._released is not None
                self._released.set()

    def real_seconds(self, simulated_s: float) -> float:
        """Wall-clock seconds that `simulated_s` simulated seconds take."""
        return simulated_s / self._speed

    def __repr__(self) -> str:
        return f"ScaledClock(speed={self._speed}, now={self.now().isoformat()})"


def clock_from_env(environ: Mapping[str, str] | None = None) -> ScaledClock:
    """The clock SMARTCHARGE_CLOCK_SPEED / _START / _ANCHOR describe (all optional; real time if unset)."""
    env = os.environ if environ is None else environ
    speed = float(env.get(SPEED_ENV, "") or 1.0)
    start = parse_instant(env[START_ENV]) if env.get(START_ENV) else None
    anchor = parse_instant(env[ANCHOR_ENV]) if env.get(ANCHOR_ENV) else None
    return ScaledClock(speed=speed, start=start, anchor=anchor)
