"""Planning at scale on PostgreSQL: how long a replan of every site takes, and how fast a killed scheduler's
sites are taken over.

1. Replan of every site (`python -m benchmarks sharding`): N sites x M running transactions (default 500 x
   100 = 50,000 sessions, 15-minute intervals, 96 of them), every site asked for a replan at once as at an
   interval boundary, through the scheduler's real path (snapshot from PostgreSQL, plan, solve, revision
   stored; no charge point connected, so nothing is sent). Solves in a worker thread (the default, the
   baseline of the same run), then in a pool of 1 and of 2 worker processes. Also: the solver's own seconds
   (summed over the revisions), i.e. what more cores would divide.
2. Take-over after kill -9: two `smartcharge serve --role scheduler` processes share 40 sites; one is
   killed (SIGKILL); the time until the other holds its sites, and until each of them has a revision by the
   survivor. Lease 3 s and the default 15 s.

Needs PostgreSQL (SMARTCHARGE_BENCH_POSTGRES_URL, default postgresql://postgres@127.0.0.1:5432/test) and,
for part 2, Redis (SMARTCHARGE_BENCH_REDIS_URL, default redis://127.0.0.1:6379/0). Sizes:
SMARTCHARGE_BENCH_SITES, SMARTCHARGE_BENCH_SESSIONS_PER_SITE.
"""

import asyncio
import contextlib
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks.schemas import postgres_schema

ROOT = Path(__file__).resolve().parents[1]
POSTGRES_URL = os.environ.get("SMARTCHARGE_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("SMARTCHARGE_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
SITES = int(os.environ.get("SMARTCHARGE_BENCH_SITES", "500"))
SESSIONS_PER_SITE = int(os.environ.get("SMARTCHARGE_BENCH_SESSIONS_PER_SITE", "100"))
POOLS = (0, 1, 2)  # 0: a worker thread
TAKEOVER_SITES = 40
LEASES_S = (3.0, 15.0)
SEED = 20261207
PLANNED = ("optimal", "feasible", "feasible_relaxed")  # by the LP (not a fallback's heuristic)


def _fleet(url: str, sites: int, sessions_per_site: int) -> None:
    """`sites` sites of `sessions_per_site` charge points (one connector each) with a running transaction
    each, started over the last 8 hours; 7.4, 11 or 22 kW; the site's grid connection binds (0.4 of the sum
    of the connectors' maxima), so every plan has to share."""
    from sqlalchemy import create_engine, insert

    from app.db.engine import sync_url
    from app.db.tables.ocpp import charge_point_table, connector_table, transaction_table
    from app.db.tables.planning import site_table

    rng = random.Random(SEED)
    now = datetime.now(UTC)
    engine = create_engine(sync_url(url))
    with engine.begin() as connection:
        for s in range(sites):
            amps = [rng.choice([(1, 32.0), (3, 16.0), (3, 32.0)]) for _ in range(sessions_per_site)]
            max_kw = sum(phases * a * 0.23 for phases, a in amps)
            site_id = connection.execute(
                insert(site_table)
                .values(
                    name=f"site-{s}",
                    timezone="UTC",
                    interval_minutes=15,
                    grid_connection_limit_kw=round(0.4 * max_kw, 1),
                    fallback_limit_kw=round(0.1 * max_kw, 1),
                    safety_margin_kw=0.0,
                    default_duration_minutes=600,
                    default_energy_kwh=30.0,
                    created_at=now,
                    updated_at=now,
                )
                .returning(site_table.c.id)
            ).scalar_one()
            cps = [f"S{s}-CP{n}" for n in range(sessions_per_site)]
            if not cps:
                continue
            connection.execute(
                insert(charge_point_table),
                [{"id": cp, "site_id": site_id, "created_at": now, "connected": True} for cp in cps],
            )
            connection.execute(
                insert(connector_table),
                [
                    {"charge_point_id": cp, "connector_id": 1, "phases": phases, "max_current_a": a}
                    for cp, (phases, a) in zip(cps, amps, strict=True)
                ],
            )
            started = [now - timedelta(minutes=rng.uniform(0, 480)) for _ in cps]
            connection.execute(
                insert(transaction_table),
                [
                    {
                        "charge_point_id": cp,
                        "connector_id": 1,
                        "id_tag": f"T{s}-{n}",
                        "start_timestamp": at,
                        "start_received_at": at,
                        "meter_start_wh": 0,
                    }
                    for n, (cp, at) in enumerate(zip(cps, started, strict=True))
                ],
            )
    engine.dispose()


class _Offline:
    """A `ProfileSender` that reaches no charge point: the plan is made and stored, nothing sent (the
    charge points are recorded connected, so every session is planned, none assumed offline)."""

    def is_connected(self, charge_point_id: str) -> bool:
        return False

    async def send_tx_profile(self, schedule: Any) -> Any:
        raise AssertionError("nothing is connected")

    async def verify_tx_profile(self, schedule: Any, result: Any) -> Any:
        raise AssertionError("nothing is connected")

    async def send_default_profile(self, charge_point_id: str, limit_kw: float, **_: Any) -> Any:
        raise AssertionError("nothing is connected")

    async def request_meter_values(self, charge_point_id: str, connector_id: int) -> bool:
        return False


async def _replan_all(url: str, processes: int) -> dict[str, float]:
    from sqlalchemy import func, select

    from app.db.engine import Database, create_engine
    from app.db.store import SqlStore
    from app.db.tables.planning import schedule_revision_table as revision
    from app.domain.bus import EventBus
    from app.domain.clock import SystemClock
    from app.services.planning.scheduler import Scheduler, SchedulerSettings

    database = Database(create_engine(url))
    events = EventBus()
    settings = SchedulerSettings(solve_processes=processes, solve_time_limit_s=60.0)
    scheduler = Scheduler(SqlStore(database, events), _Offline(), SystemClock(), events, settings)

    async def stored() -> tuple[int, float, int]:
        async with database.engine.connect() as connection:
            row = (
                await connection.execute(
                    select(func.count(), func.coalesce(func.sum(revision.c.solve_seconds), 0.0))
                    .select_from(revision)
                    .where(revision.c.trigger == marker)
                )
            ).one()
            planned = await connection.execute(
                select(func.count())
                .select_from(revision)
                .where(revision.c.trigger == marker, revision.c.status.in_(PLANNED))
            )
            return int(row[0]), float(row[1]), int(planned.scalar_one())

    marker = f"bench {processes} {uuid.uuid4().hex[:6]}"
    try:
        await scheduler.start()
        async with database.engine.connect() as connection:
            from app.db.tables.planning import site_table

            site_ids = list((await connection.execute(select(site_table.c.id))).scalars())
        if processes:  # the workers start (spawn, import the optimiser) before the clock runs
            await asyncio.gather(*(scheduler._solver.solve(_warm_up()) for _ in range(processes)))
        began = time.perf_counter()
        for site_id in site_ids:
            scheduler.request(site_id, marker)

        async def all_stored() -> bool:
            return (await stored())[0] >= len(site_ids)

        await _until(all_stored, 3600, interval_s=0.2)  # a replan that fails is logged: no hang
        wall_s = time.perf_counter() - began
        count, solve_s, planned = await stored()
    finally:
        await scheduler.stop()
        await database.dispose()
    return {"wall_s": wall_s, "solve_s": solve_s, "revisions": count, "planned": planned}


async def _until(check: Callable[[], Awaitable[bool]], timeout_s: float, interval_s: float = 0.05) -> None:
    async with asyncio.timeout(timeout_s):
        while True:
            if await check():
                return
            await asyncio.sleep(interval_s)


def _warm_up() -> Any:
    from optimizer import ScheduleProblem, Session

    start = datetime(2026, 12, 7, tzinfo=UTC)
    session = Session(id="a", arrival=start, departure=start + timedelta(hours=1), energy_kwh=1.0, max_kw=7.4)
    return ScheduleProblem(start, 15, (10.0,) * 4, (session,), ())


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.asynccontextmanager
async def _scheduler(
    url: str, prefix: str, name: str, lease_s: float
) -> AsyncIterator[subprocess.Popen[bytes]]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMARTCHARGE_")} | {
        "SMARTCHARGE_DATABASE_URL": url,
        "SMARTCHARGE_REDIS_URL": REDIS_URL,
        "SMARTCHARGE_REDIS_PREFIX": prefix,
        "SMARTCHARGE_SCHEDULER_NAME": name,
        "SMARTCHARGE_SITE_LEASE_S": str(lease_s),
        "SMARTCHARGE_API_PORT": str(port),
        "SMARTCHARGE_LOG_LEVEL": "WARNING",
    }
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(  # noqa: ASYNC220 (started once; waited for below without blocking)
            [sys.executable, "-c", "from app.cli import main; main()", "serve", "--role", "scheduler"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=errors,
        )
        try:
            async with asyncio.timeout(60):
                while True:
                    if process.poll() is not None:
                        errors.seek(0)
                        raise RuntimeError(f"scheduler {name} stopped: {errors.read().decode()[-2000:]}")
                    with contextlib.suppress(OSError):
                        _reader, writer = await asyncio.open_connection("127.0.0.1", port)
                        writer.close()
                        await writer.wait_closed()
                        break
                    await asyncio.sleep(0.1)
            yield process
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


async def _takeover(lease_s: float) -> dict[str, float]:
    from sqlalchemy import func, select

    from app.db.engine import create_engine
    from app.db.tables.cluster import site_lease_table as lease
    from app.db.tables.planning import schedule_revision_table as revision

    with postgres_schema(POSTGRES_URL) as url:
        _fleet(url, TAKEOVER_SITES, 0)
        engine = create_engine(url)
        prefix = f"bench-{uuid.uuid4().hex[:8]}"

        async def holders() -> dict[int, str]:
            async with engine.connect() as connection:
                rows = await connection.execute(select(lease.c.site_id, lease.c.scheduler_id))
                return {row.site_id: row.scheduler_id for row in rows}

        async def replanned_by_b(site_ids: list[int], after_id: int) -> bool:
            async with engine.connect() as connection:
                found = await connection.execute(
                    select(func.count(func.distinct(revision.c.site_id))).where(
                        revision.c.site_id.in_(site_ids),
                        revision.c.id > after_id,
                        revision.c.planned_by == "sched-b",
                    )
                )
                return int(found.scalar_one()) == len(site_ids)

        async def shared() -> bool:
            split = sorted(["sched-a", "sched-b"] * (TAKEOVER_SITES // 2))
            return sorted((await holders()).values()) == split

        async def all_with_b() -> bool:
            return await holders() == dict.fromkeys(site_ids, "sched-b")

        try:
            async with (
                _scheduler(url, prefix, "sched-a", lease_s) as a,
                _scheduler(url, prefix, "sched-b", lease_s),
            ):
                await _until(shared, 20 * lease_s)
                site_ids = sorted(await holders())
                of_a = [site for site, holder in (await holders()).items() if holder == "sched-a"]
                async with engine.connect() as connection:
                    last = int((await connection.execute(select(func.max(revision.c.id)))).scalar_one() or 0)
                killed = time.perf_counter()
                a.kill()
                await _until(all_with_b, 20 * lease_s)
                held_s = time.perf_counter() - killed
                await _until(lambda: replanned_by_b(of_a, last), 20 * lease_s)
                planned_s = time.perf_counter() - killed
        finally:
            await engine.dispose()
    return {"held_s": held_s, "planned_s": planned_s}


def _reachable() -> str | None:
    """Why a part cannot run (None when both services answer)."""
    import redis
    from sqlalchemy import create_engine, text

    from app.db.engine import sync_url

    try:
        engine = create_engine(sync_url(POSTGRES_URL), connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
    except Exception:
        return f"no PostgreSQL at {POSTGRES_URL}"
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except Exception:
        return f"no Redis at {REDIS_URL}"
    return None


def main() -> None:
    problem = _reachable()
    if problem is not None and problem.startswith("no PostgreSQL"):
        print(f"skipped: {problem} (set SMARTCHARGE_BENCH_POSTGRES_URL)")
        return
    cores = os.cpu_count()
    load = os.getloadavg()[0]
    sessions = SITES * SESSIONS_PER_SITE
    print(f"{SITES} sites x {SESSIONS_PER_SITE} sessions = {sessions:,} sessions, 96 intervals;")
    print(f"{cores} cores, load average {load:.1f} at start\n")
    with postgres_schema(POSTGRES_URL) as url:
        began = time.perf_counter()
        _fleet(url, SITES, SESSIONS_PER_SITE)
        print(f"fleet stored in {time.perf_counter() - began:.1f} s\n")
        print("| solves in | replan of every site (s) | sites/s | solver s (sum) | planned by the LP |")
        print("| --- | --- | --- | --- | --- |")
        baseline = None
        for processes in POOLS:
            figures = asyncio.run(_replan_all(url, processes))
            baseline = baseline or figures["wall_s"]
            where = "a worker thread (baseline)" if processes == 0 else f"{processes} worker process(es)"
            print(
                f"| {where} | {figures['wall_s']:.1f} ({figures['wall_s'] / baseline:.2f}x) "
                f"| {figures['revisions'] / figures['wall_s']:.1f} | {figures['solve_s']:.1f} "
                f"| {figures['planned']:.0f}/{figures['revisions']:.0f} |",
                flush=True,
            )
    if problem is not None:
        print(f"\ntake-over skipped: {problem} (set SMARTCHARGE_BENCH_REDIS_URL)")
        return
    print(f"\ntake-over after kill -9 ({TAKEOVER_SITES} sites over two schedulers):\n")
    print("| lease (s) | other holds the sites (s) | each replanned by it (s) |")
    print("| --- | --- | --- |")
    for lease_s in LEASES_S:
        figures = asyncio.run(_takeover(lease_s))
        print(f"| {lease_s:g} | {figures['held_s']:.1f} | {figures['planned_s']:.1f} |", flush=True)
