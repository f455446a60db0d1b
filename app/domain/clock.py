import asyncio
from datetime import UTC, datetime


class SystemClock:
    """The real UTC clock. Tests and the accelerated simulation inject a scaled `Clock` instead."""

    speed = 1.0

    def now(self) -> datetime:
        return datetime.now(UTC)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))
