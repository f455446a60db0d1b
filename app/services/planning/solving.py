"""Where solves run: a worker thread (the default), or a pool of processes, so that the solves of many
sites use every core (the optimiser is pure: a problem in, a result out, both picklable)."""

import asyncio
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from functools import partial

import anyio

import optimizer

__all__ = ["Solver"]


class Solver:
    def __init__(self, *, time_limit_s: float, processes: int = 0) -> None:
        self.time_limit_s = time_limit_s
        self.processes = processes
        self._pool: ProcessPoolExecutor | None = None

    def start(self) -> None:
        """Start the pool (`processes` > 0); its workers are started afresh (`spawn`), not forked from a
        process that runs an event loop and threads."""
        if self.processes > 0 and self._pool is None:
            context = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(max_workers=self.processes, mp_context=context)

    def stop(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    async def solve(self, problem: optimizer.ScheduleProblem) -> optimizer.ScheduleResult:
        """`optimizer.solve` off the event loop: in the pool when there is one, else in a worker thread."""
        solve = partial(optimizer.solve, problem, time_limit_s=self.time_limit_s)
        if self._pool is None:
            return await anyio.to_thread.run_sync(solve)
        return await asyncio.get_running_loop().run_in_executor(self._pool, solve)
