"""A lease renewed every third of its length in a task of its own: a gateway's presence (`presence`) and a
scheduler's share of the sites (`shards`)."""

import abc
import asyncio
import contextlib
import logging

__all__ = ["Renewing"]

log = logging.getLogger(__name__)


class Renewing(abc.ABC):
    """`tick` once at `start` (a failure there is the caller's), then every third of `lease_s` until `stop`;
    a failed renewal is logged and the next one tried."""

    def __init__(self, lease_s: float, what: str) -> None:
        self._lease_s = lease_s
        self._what = what
        self._task: asyncio.Task[None] | None = None

    @abc.abstractmethod
    async def tick(self) -> None:
        """Renew the lease (and act on what it says)."""

    async def start(self) -> None:
        await self.tick()
        self._task = asyncio.create_task(self._loop(), name=self._what)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self._lease_s / 3)
            try:
                await self.tick()
            except Exception:
                log.exception("%s: renewal failed", self._what)
