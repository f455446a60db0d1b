"""What the simulator needs from time, as a protocol: the caller hands it a clock.

Real time, or the accelerated clock the service shares (`app.domain.clock.ScaledClock`): every timestamp
and every sleep of the simulator goes through the `Clock` it was given.
"""

from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    """The current instant and a way to wait in simulated seconds."""

    @property
    def speed(self) -> float: ...

    def now(self) -> datetime: ...

    async def sleep(self, seconds: float) -> None: ...


def parse_instant(text: str) -> datetime:
    """An ISO 8601 instant; `Z` accepted; a naive value is taken as UTC."""
    moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
