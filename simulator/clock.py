"""An injectable clock: real time, or accelerated by a speed factor from a chosen start.

Simulated time is a linear function of the wall clock, so that separate processes configured alike agree::

    sim_now = start + (wall_now - anchor) * speed

Every timestamp and every sleep of the simulator goes through a `Clock`.
"""

import asyncio
import os
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Protocol

SPEED_ENV = "SMARTCHARGE_CLOCK_SPEED"
START_ENV = "SMARTCHARGE_CLOCK_START"
ANCHOR_ENV = "SMARTCHARGE_CLOCK_ANCHOR"


class Clock(Protocol):
    """What the simulator needs from time: the current instant and a way to wait in simulated seconds."""

    @property
    def speed(self) -> float: ...

    def now(self) -> datetime: ...

    async def sleep(self, seconds: float) -> None: ...


class ScaledClock:
    """Simulated time running `speed` times faster than the wall clock; `speed=1` is real time.

    `start` is the simulated instant at the wall-clock instant `anchor` (both default to now).
    """

    def __init__(self, speed: float = 1.0, start: datetime | None = None, anchor: datetime | None = None):
        if not speed > 0:
            raise ValueError(f"clock speed must be positive, got {speed}")
        wall = datetime.fromtimestamp(time.time(), UTC)
        self._speed = float(speed)
        self._start = _aware(start) if start is not None else wall
        self._anchor_s = (_aware(anchor) if anchor is not None else wall).timestamp()

    @property
    def speed(self) -> float:
        return self._speed

    def now(self) -> datetime:
        return self._start + timedelta(seconds=(time.time() - self._anchor_s) * self._speed)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds) / self._speed)

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


def parse_instant(text: str) -> datetime:
    """An ISO 8601 instant; `Z` accepted; a naive value is taken as UTC."""
    return _aware(datetime.fromisoformat(text.strip().replace("Z", "+00:00")))


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
