"""The upkeep of stored meter values, in the process that owns maintenance (role `all` or `scheduler`):
PostgreSQL's month partitions made ahead, and samples older than the retention removed
(`SMARTCHARGE_METER_VALUE_RETENTION_DAYS`; unset keeps everything). See `app.db.partitions`."""

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import text

from app.db import partitions
from app.db.engine import Database
from app.domain.ports import Clock

__all__ = ["MeterValueUpkeep", "Upkept"]

log = logging.getLogger(__name__)

INTERVAL_S = 3600.0
SQLITE_BATCH_ROWS = 10_000  # rows deleted per transaction: other writers get the database in between
LOCK_TIMEOUT = "5s"  # a partition detached waits this long for the queries reading the table, then retries


@dataclass(frozen=True)
class Upkept:
    made: tuple[str, ...] = ()  # partitions made
    dropped: int = 0  # partitions dropped (PostgreSQL)
    deleted: int = 0  # rows deleted (SQLite)


class MeterValueUpkeep:
    """`upkeep` in a task of its own from `start` (start-up does not wait for a first retention's deletes),
    then every `interval_s` until `stop`; a failed round is logged and the next one tried."""

    def __init__(
        self, database: Database, clock: Clock, retention_days: int | None, interval_s: float = INTERVAL_S
    ) -> None:
        self._engine = database.engine
        self._clock = clock
        self._retention = None if retention_days is None else timedelta(days=retention_days)
        self._interval_s = interval_s
        self._task: asyncio.Task[None] | None = None

    async def upkeep(self) -> Upkept:
        now = self._clock.now()
        cutoff = None if self._retention is None else now - self._retention
        if self._engine.dialect.name != "postgresql":
            deleted = 0
            while cutoff is not None:
                async with self._engine.begin() as connection:
                    batch = await partitions.delete_rows_older(connection, cutoff, SQLITE_BATCH_ROWS)
                deleted += batch
                if batch < SQLITE_BATCH_ROWS:
                    break
            return Upkept(deleted=deleted)
        async with self._engine.begin() as connection:
            await connection.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
            made = await partitions.ensure_months(connection, now)
        dropped = 0
        if cutoff is not None:
            async with self._engine.begin() as connection:
                await connection.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
                dropped = await partitions.delete_older(connection, cutoff)
        return Upkept(made=tuple(made), dropped=dropped)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="meter value upkeep")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _loop(self) -> None:
        while True:
            await self._round()
            await asyncio.sleep(self._interval_s)

    async def _round(self) -> None:
        try:
            done = await self.upkeep()
        except Exception:
            log.exception("meter value upkeep failed (tried again in %.0f s)", self._interval_s)
            return
        if done != Upkept():
            log.info(
                "meter values: partitions made %s, %d dropped, %d rows deleted",
                ", ".join(done.made) or "none",
                done.dropped,
                done.deleted,
            )
