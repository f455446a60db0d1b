"""Group commit: the units of work of many callers run in one transaction, then each caller gets its result.

A unit of work is an `async (session) -> T` that does its reads and writes and does not commit. Writer
tasks take whatever units are queued (up to `max_batch`), run them one after another in one session and
commit once; each caller's `run` returns only after that commit (so an OCPP CALLRESULT is sent after what
it acknowledges is durable). When anything in a batch fails, the batch is rolled back and each of its units
is run again in a transaction of its own: a failing unit gets its exception, the others are stored.

A bulk write (`run_bulk(bulk, item)`) is the hot-path variant: the items of all callers that name the
same `bulk` function in one batch go to one call of it (one multi-row INSERT or one executemany UPDATE
instead of a statement per caller); it returns one result per item, in order.

A batch of one item alone, of a bulk function marked `one_statement` (one statement for one item), runs
without a transaction around it where the database allows (`autocommit_alone`, PostgreSQL): the statement
is its own transaction, as atomic and as durable once it has returned (the server answers after the commit
is flushed), without the BEGIN and COMMIT round trips, and without holding its row locks across them (a
command's sent-at and its outcome, one after the other, would wait on each other).

Units of one caller run in the order it awaits them. `app.db.store.SqlStore.run` wraps a unit of work of
the persistence port in a unit here, and `app.db.batched` gives the port's hot-path writes their bulk
functions; the events a unit of work records are published once its batch has committed, and dropped with
a rollback (a unit run again alone records afresh).
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

log = logging.getLogger(__name__)

T = TypeVar("T")
I = TypeVar("I")  # noqa: E741
Unit = Callable[[AsyncSession], Awaitable[T]]
Bulk = Callable[[AsyncSession, list[I]], Awaitable[list[T]]]


_ONE_STATEMENT: set[Any] = set()


def one_statement(bulk: Bulk[I, T]) -> Bulk[I, T]:
    """Mark `bulk` as running exactly one statement for a single item (see the module's docstring)."""
    _ONE_STATEMENT.add(bulk)
    return bulk


@dataclass(frozen=True)
class _Pending:
    unit: Unit[Any] | None
    future: asyncio.Future[Any]
    bulk: Bulk[Any, Any] | None = None
    item: Any = None


@dataclass
class GroupCommitStats:
    batches: int = 0
    alone: int = 0  # batches of one `one_statement` item run without a transaction around
    units: int = 0
    retried_batches: int = 0
    failed_units: int = 0
    busy_s: float = 0.0  # time spent running batches (the database's share of the work)


class GroupCommitter:
    """Runs units of work in shared transactions on `writers` tasks (one for SQLite: one connection)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        writers: int = 1,
        max_batch: int = 2000,
        on_batch: Callable[[float, int], None] | None = None,
        autocommit_alone: bool = False,
    ) -> None:
        self._autocommit_alone = autocommit_alone
        self._on_batch = on_batch  # (seconds, units) of each batch: the service's metrics
        self._sessions = sessions
        self._writers_wanted = writers
        self._max_batch = max_batch
        self._queue: asyncio.Queue[_Pending] = asyncio.Queue()
        self._writers: list[asyncio.Task[None]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self.stats = GroupCommitStats()

    async def run(self, unit: Unit[T]) -> T:
        """Run `unit` in the next batch; returns its result once the batch has committed."""
        return await self._enqueue(unit, None, None)  # type: ignore[no-any-return]

    async def run_bulk(self, bulk: Bulk[I, T], item: I) -> T:
        """Hand `item` to `bulk` together with the other items for it in the next batch."""
        return await self._enqueue(None, bulk, item)  # type: ignore[no-any-return]

    async def _enqueue(self, unit: Unit[Any] | None, bulk: Bulk[Any, Any] | None, item: Any) -> Any:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            self._start(loop)
        future: asyncio.Future[Any] = loop.create_future()
        self._queue.put_nowait(_Pending(unit, future, bulk, item))
        # A cancelled caller cancels `future` only: its unit stays queued and runs with its batch.
        return await future

    def _start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._queue = asyncio.Queue()
        self._writers = [
            loop.create_task(self._write(), name=f"group-commit-{i}") for i in range(self._writers_wanted)
        ]

    async def aclose(self) -> None:
        """Finish the queued units, then stop the writers."""
        if self._loop is not asyncio.get_running_loop():
            self._writers = []
            return
        await self._queue.join()
        for writer in self._writers:
            writer.cancel()
        for writer in self._writers:
            with contextlib.suppress(asyncio.CancelledError):
                await writer
        self._writers = []
        self._loop = None

    async def _write(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self._max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                await self._commit(batch)
            finally:
                for _ in batch:
                    self._queue.task_done()

    async def _commit(self, batch: list[_Pending]) -> None:
        self.stats.batches += 1
        self.stats.units += len(batch)
        started = time.perf_counter()
        try:
            await self._commit_timed(batch)
        finally:
            elapsed_s = time.perf_counter() - started
            self.stats.busy_s += elapsed_s
            if self._on_batch is not None:
                self._on_batch(elapsed_s, len(batch))

    async def _commit_timed(self, batch: list[_Pending]) -> None:
        try:
            results = await self._transaction(batch)
        except Exception as error:
            if len(batch) == 1:
                self.stats.failed_units += 1
                _settle(batch[0].future, error=error)
                return
            self.stats.retried_batches += 1
            log.info("a batch of %d units failed (%r); running each alone", len(batch), error)
            for pending in batch:
                try:
                    [result] = await self._transaction([pending])
                except Exception as alone:
                    self.stats.failed_units += 1
                    _settle(pending.future, error=alone)
                else:
                    _settle(pending.future, result=result)
            return
        except BaseException as error:  # cancelled: the callers must not wait forever
            for pending in batch:
                _settle(pending.future, error=asyncio.CancelledError(str(error) or "writer stopped"))
            raise
        for pending, result in zip(batch, results, strict=True):
            _settle(pending.future, result=result)

    async def _transaction(self, batch: list[_Pending]) -> list[Any]:
        async with self._sessions() as session:
            if self._autocommit_alone and len(batch) == 1 and batch[0].bulk in _ONE_STATEMENT:
                await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
                self.stats.alone += 1
            try:
                results = await _execute(session, batch)
                await session.commit()
            except BaseException:
                await session.rollback()
                raise
        return results


def _settle(future: asyncio.Future[Any], *, result: Any = None, error: BaseException | None = None) -> None:
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


async def _execute(session: AsyncSession, batch: list[_Pending]) -> list[Any]:
    """Units in order, then each bulk function once with its items; results in the batch's order."""
    results: list[Any] = [None] * len(batch)
    groups: dict[Bulk[Any, Any], list[int]] = {}
    for index, pending in enumerate(batch):
        if pending.unit is not None:
            results[index] = await pending.unit(session)
        else:
            assert pending.bulk is not None
            groups.setdefault(pending.bulk, []).append(index)
    for bulk, indices in groups.items():
        outcomes = await bulk(session, [batch[i].item for i in indices])
        for index, outcome in zip(indices, outcomes, strict=True):
            results[index] = outcome
    return results
