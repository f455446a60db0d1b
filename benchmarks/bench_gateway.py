"""Gateway load: how many charge points one gateway process holds, and at what latency.

100, 1,000 and 5,000 simulated charge points on loopback connect, boot (BootNotification, StatusNotification)
and then send MeterValues and Heartbeats at a fixed rate. The field rates (MeterValues every 60 s, Heartbeat
every 300 s) are run 10x faster — every 6 s and every 30 s — so that a short run still carries weight:
0.2 messages/s per charge point, 1,000/s at 5,000. Then, for 10 s, every charge point sends its next
message as soon as the previous one is answered: the most the server sustains.

The server (the `OcppServer` alone, as `make run` embeds it, on SQLite or PostgreSQL) runs in a process of its
own, the load generators in two others, so the server is measured by itself. The ceiling is a bare
`websockets` server that answers every frame with a fixed CALLRESULT, under the same load; the ratio is our
saturation throughput over its. "no-store" (at the largest size only) is our gateway on SQLite with the
per-message writes left out, everything else in place: how much of the gap to the ceiling is the protocol
layer, and how much storing each message before answering it. Memory per connection is the server's RSS
growth over connecting and booting all charge points, divided by their number. At the largest size, a
reconnect storm: every connection is dropped at once and each charge point reconnects and boots again after a
random delay of up to 10 s; the recovery time runs from the drop until the last one is accepted again.
"batch" and "commit" show the group commit while saturated: units per committed batch, and the share of the
time its writers spent in batches (100% on SQLite: its one writer was never idle, so the database round trips
bound the throughput).
"µs/msg" is the CPU time of the server's event-loop thread per message answered while saturated: it varies
less between runs than the rates, so it is the figure to compare when changing the per-message path.

Frames carry no compression (embedded charge points rarely negotiate permessage-deflate). Errors count
CALLERRORs, timeouts and failed connects; "stored" compares the meter values in the database with those the
charge points had acknowledged. PostgreSQL: a fresh schema in SMARTCHARGE_BENCH_POSTGRES_URL (default
postgresql://postgres@127.0.0.1:5432/test), dropped after; skipped when the server cannot be reached.
"""

import asyncio
import contextlib
import gc
import itertools
import json
import logging
import multiprocessing
import os
import random
import resource
import tempfile
import time
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

from benchmarks.schemas import postgres_schema

SIZES = (100, 1000, 5000)
METER_PERIOD_S = 6.0  # field: 60 s
HEARTBEAT_PERIOD_S = 30.0  # field: 300 s
STEADY_S = 20.0
SATURATE_S = 10.0
STORM_SPREAD_S = 10.0
GENERATORS = 2
CONNECT_CONCURRENCY = 100  # per generator
CALL_TIMEOUT_S = 30.0
SAMPLES_PER_METER_VALUES = 5
POSTGRES_URL = os.environ.get(
    "SMARTCHARGE_BENCH_POSTGRES_URL",
    os.environ.get("SMARTCHARGE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"),
)
LISTEN_BACKLOG = 1024
NO_STORE = "no-store"  # the gateway on SQLite without its per-message writes: see `_unstored_database`


def _raise_open_files() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard != resource.RLIM_INFINITY else 65536
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


def _use_uvloop() -> None:
    """The event loop `make run` gets (uvicorn picks uvloop when installed), for every process here."""
    with contextlib.suppress(ImportError):
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


def _cpu_s(pid: int, *, main_thread: bool = False) -> float:
    """User + system CPU seconds of process `pid` so far (of its main thread only, with `main_thread`)."""
    path = f"/proc/{pid}/task/{pid}/stat" if main_thread else f"/proc/{pid}/stat"
    fields = Path(path).read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


# --- server process ---------------------------------------------------------------------------------------


class _LogCounter(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.errors = 0
        self.pool_errors = 0
        self.first: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage() + (str(record.exc_info[1]) if record.exc_info else "")
        if "pool" in text.lower() or "QueuePool" in text:
            self.pool_errors += 1
        if record.levelno >= logging.ERROR:
            self.errors += 1
            if len(self.first) < 3:
                self.first.append(f"{record.name}: {text[:200]}")


def _serve(kind: str, database_url: str | None, control: Connection) -> None:
    _raise_open_files()
    _use_uvloop()
    profile_to = os.environ.get("SMARTCHARGE_BENCH_PROFILE")  # a path: cProfile the server into it
    try:
        if profile_to:
            import cProfile

            cProfile.runctx(
                "asyncio.run(_serve_async(kind, database_url, control))", globals(), locals(), profile_to
            )
        else:
            asyncio.run(_serve_async(kind, database_url, control))
    except BaseException as error:
        with contextlib.suppress(Exception):
            control.send({"failed": repr(error)})
        raise


class _GcPauses:
    """Time the cyclic garbage collector stops the event loop for: in all, and its longest pause."""

    def __init__(self) -> None:
        self.total_s = self.longest_s = 0.0
        self.full_collections = 0
        self._started = 0.0
        gc.callbacks.append(self._note)

    def _note(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
            return
        pause = time.perf_counter() - self._started
        self.total_s += pause
        self.longest_s = max(self.longest_s, pause)
        self.full_collections += info["generation"] == 2


def _unstored_database(engine: Any) -> Any:
    """The gateway's `Database`, but MeterValues, Heartbeats and last-seen times are answered without being
    stored (boots, statuses and connections still are): with everything else of the per-message path in
    place (framing, validation, dispatch, the meter rows built), an upper bound for the stored figures."""
    from app.db import batched
    from app.db.engine import Database

    unstored = {batched.record_heartbeats, batched.touch_many}

    class UnstoredDatabase(Database):
        async def run_bulk(self, bulk: Any, item: Any) -> Any:
            if bulk is batched.store_meter_values:
                return item.transaction_id, len(item.claimed_rows)
            if bulk in unstored:
                return None
            return await super().run_bulk(bulk, item)

    return UnstoredDatabase(engine)


async def _serve_async(kind: str, database_url: str | None, control: Connection) -> None:
    counter = _LogCounter()
    logging.getLogger().addHandler(counter)
    logging.getLogger().setLevel(logging.WARNING)
    loop = asyncio.get_running_loop()
    gc_pauses = _GcPauses()
    from app.runtime import tune_garbage_collector

    if kind == "ceiling":
        from websockets.asyncio.server import ServerConnection, serve
        from websockets.exceptions import ConnectionClosed

        async def answer(ws: ServerConnection) -> None:
            with contextlib.suppress(ConnectionClosed):
                async for frame in ws:
                    await ws.send(f'[3,"{json.loads(frame)[1]}",{{}}]')

        server = await serve(
            answer,
            "127.0.0.1",
            0,
            subprotocols=["ocpp1.6"],
            ping_interval=None,
            backlog=LISTEN_BACKLOG,  # type: ignore[list-item]
        )
        tune_garbage_collector()  # the same process tuning as ours, so the ratio compares like with like
        control.send(next(iter(server.sockets)).getsockname()[1])
        stats: Any = lambda: {"connected": len(server.connections)}  # noqa: E731
        stop: Any = server.close
    else:
        from sqlalchemy import func, select

        from app.db.engine import Database, create_engine
        from app.db.store import SqlStore
        from app.db.tables.ocpp import meter_value_table
        from app.domain.bus import EventBus
        from app.domain.clock import SystemClock
        from app.settings import Settings
        from ocpp_gateway import OcppServer

        assert database_url is not None
        settings = Settings(
            database_url=database_url,
            ocpp_host="127.0.0.1",
            ocpp_port=0,
            unknown_charge_points="accept",
            ocpp_ping_interval_s=None,
            log_level="WARNING",
        )
        engine = create_engine(database_url)
        database = _unstored_database(engine) if kind == NO_STORE else Database(engine)
        bus = EventBus()
        gateway = OcppServer(settings, SqlStore(database, bus), bus=bus, clock=SystemClock())
        await gateway.start()
        tune_garbage_collector()  # as `smartcharge serve` does once started
        control.send(gateway.port)

        async def gateway_stats() -> dict[str, Any]:
            async with database.session() as session:
                stored = await session.scalar(select(func.count()).select_from(meter_value_table))
            committer = database.group_commit.stats
            return {
                "connected": len(gateway.registry),
                "meter_values": int(stored or 0),
                "batches": committer.batches,
                "units": committer.units,
                "retried_batches": committer.retried_batches,
                "busy_s": committer.busy_s,
            }

        stats = gateway_stats

        async def stop_gateway() -> None:
            await gateway.stop()
            await database.dispose()

        stop = stop_gateway
    while True:
        command = await loop.run_in_executor(None, control.recv)
        if command == "stats":
            figures = stats()
            if asyncio.iscoroutine(figures):
                figures = await figures
            control.send(
                figures
                | {"log_errors": counter.errors, "pool_errors": counter.pool_errors, "first": counter.first}
                | {"gc_total_s": gc_pauses.total_s, "gc_longest_ms": 1000 * gc_pauses.longest_s}
                | {"gc_full_collections": gc_pauses.full_collections}
            )
        elif command == "stop":
            result = stop()
            if asyncio.iscoroutine(result):
                await result
            control.send("stopped")
            return


# --- load generator processes ------------------------------------------------------------------------------


class _Client:
    """One simulated charge point: raw OCPP-J frames, answers the central system's CALLs with `{}`."""

    def __init__(self, cp_id: str, url: str) -> None:
        self.cp_id = cp_id
        self.url = url
        self.ws: ClientConnection | None = None
        self.pending: dict[str, asyncio.Future[list[Any]]] = {}
        self.ids = itertools.count()
        self.energy_wh = 0
        self.reader: asyncio.Task[None] | None = None

    async def open(self) -> None:
        self.ws = await connect(
            self.url,
            subprotocols=["ocpp1.6"],  # type: ignore[list-item]
            compression=None,
            open_timeout=CALL_TIMEOUT_S,
            ping_interval=None,
            close_timeout=1,
        )
        self.reader = asyncio.create_task(self._read(self.ws))

    async def _read(self, ws: ClientConnection) -> None:
        with contextlib.suppress(Exception):
            async for frame in ws:
                message = json.loads(frame)
                if message[0] == 2:
                    await ws.send(json.dumps([3, message[1], {}]))
                    continue
                future = self.pending.pop(message[1], None)
                if future is not None and not future.done():
                    future.set_result(message)
        for future in self.pending.values():
            if not future.done():
                future.set_exception(ConnectionError("closed"))
        self.pending.clear()

    async def call(self, action: str, payload: dict[str, Any]) -> float | None:
        """Round trip in seconds, or None for a CALLERROR, a timeout or a lost connection."""
        assert self.ws is not None
        unique_id = str(next(self.ids))
        future: asyncio.Future[list[Any]] = asyncio.get_running_loop().create_future()
        self.pending[unique_id] = future
        started = time.perf_counter()
        try:
            await self.ws.send(json.dumps([2, unique_id, action, payload]))
            reply = await asyncio.wait_for(future, CALL_TIMEOUT_S)
        except Exception:
            self.pending.pop(unique_id, None)
            return None
        return time.perf_counter() - started if reply[0] == 3 else None

    async def boot(self) -> bool:
        boot = {"chargePointVendor": "smartcharge", "chargePointModel": "bench"}
        status = {"connectorId": 1, "errorCode": "NoError", "status": "Charging"}
        return (
            await self.call("BootNotification", boot) is not None
            and await self.call("StatusNotification", status) is not None
        )

    def meter_values(self) -> dict[str, Any]:
        self.energy_wh += 11
        now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        sampled = [
            {"value": str(self.energy_wh), "measurand": "Energy.Active.Import.Register", "unit": "Wh"},
            {"value": "11000", "measurand": "Power.Active.Import", "unit": "W"},
            *(
                {"value": "16.0", "measurand": "Current.Import", "phase": p, "unit": "A"}
                for p in ("L1", "L2", "L3")
            ),
        ]
        return {"connectorId": 1, "meterValue": [{"timestamp": now, "sampledValue": sampled}]}

    def abort(self) -> None:
        if self.ws is not None:
            self.ws.transport.abort()
        if self.reader is not None:
            self.reader.cancel()


def _generate(cp_ids: list[str], port: int, control: Connection, seed: int) -> None:
    _raise_open_files()
    _use_uvloop()
    asyncio.run(_generate_async(cp_ids, port, control, random.Random(seed)))


async def _generate_async(cp_ids: list[str], port: int, control: Connection, rng: random.Random) -> None:
    loop = asyncio.get_running_loop()
    clients = [_Client(cp_id, f"ws://127.0.0.1:{port}/ocpp/{cp_id}") for cp_id in cp_ids]
    while True:
        command, argument = await loop.run_in_executor(None, control.recv)
        if command == "connect":
            control.send(await _connect_all(clients))
        elif command == "steady":
            control.send(await _steady(clients, argument, rng))
        elif command == "saturate":
            control.send(await _saturate(clients, argument))
        elif command == "storm":
            control.send(await _storm(clients, argument, rng))
        elif command == "move":  # to the gateway on another port, e.g. after theirs was killed
            port, spread_s = argument
            for client in clients:
                client.url = f"ws://127.0.0.1:{port}/ocpp/{client.cp_id}"
            control.send(await _storm(clients, spread_s, rng))
        elif command == "close":
            for client in clients:
                client.abort()
            control.send("closed")
            return


async def _connect_all(clients: list[_Client]) -> dict[str, Any]:
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
    errors = 0

    async def one(client: _Client) -> None:
        nonlocal errors
        async with gate:
            for _attempt in range(3):
                try:
                    await client.open()
                    if await client.boot():
                        return
                except Exception:
                    pass
                errors += 1
                await asyncio.sleep(0.5)

    await asyncio.gather(*(one(c) for c in clients))
    return {"errors": errors}


async def _steady(clients: list[_Client], window: tuple[float, float], rng: random.Random) -> dict[str, Any]:
    """Each charge point at its fixed rate (random phase) between the wall-clock times `window`."""
    start, end = window
    latencies: list[float] = []
    errors = 0
    meter_ok = 0

    async def run(client: _Client) -> None:
        nonlocal errors, meter_ok
        next_meter = start + rng.uniform(0, METER_PERIOD_S)
        next_beat = start + rng.uniform(0, HEARTBEAT_PERIOD_S)
        while True:
            due = min(next_meter, next_beat)
            if due >= end:
                return
            await asyncio.sleep(max(0.0, due - time.time()))
            if next_meter <= next_beat:
                next_meter += METER_PERIOD_S
                latency = await client.call("MeterValues", client.meter_values())
                meter_ok += latency is not None
            else:
                next_beat += HEARTBEAT_PERIOD_S
                latency = await client.call("Heartbeat", {})
            if latency is None:
                errors += 1
            else:
                latencies.append(latency)

    await asyncio.gather(*(run(c) for c in clients))
    return {"latencies": latencies, "errors": errors, "meter_ok": meter_ok}


async def _saturate(clients: list[_Client], window: tuple[float, float]) -> dict[str, Any]:
    """Every charge point sends its next message as soon as the last is answered; answers inside `window`."""
    start, end = window
    answered = errors = meter_ok = 0

    async def run(client: _Client) -> None:
        nonlocal answered, errors, meter_ok
        await asyncio.sleep(max(0.0, start - time.time()))
        for k in itertools.count():
            if time.time() >= end:
                return
            meter = k % 6 != 5  # the steady mix: five MeterValues to one Heartbeat
            latency = (
                await client.call("MeterValues", client.meter_values())
                if meter
                else await client.call("Heartbeat", {})
            )
            if latency is None:
                errors += 1
                continue
            meter_ok += meter
            if time.time() <= end:
                answered += 1

    await asyncio.gather(*(run(c) for c in clients))
    return {"answered": answered, "errors": errors, "meter_ok": meter_ok}


async def _storm(clients: list[_Client], spread_s: float, rng: random.Random) -> dict[str, Any]:
    """Drop every connection at once; each reconnects and boots after a random delay below `spread_s`."""
    dropped_at = time.time()
    for client in clients:
        client.abort()
    accepted_at: list[float] = []
    attempts: list[float] = []
    errors = 0

    async def one(client: _Client) -> None:
        nonlocal errors
        await asyncio.sleep(rng.uniform(0, spread_s))
        for attempt in range(5):
            started = time.time()
            try:
                await client.open()
                if await client.boot():
                    accepted_at.append(time.time() - dropped_at)
                    attempts.append(time.time() - started)
                    return
            except Exception:
                pass
            errors += 1
            await asyncio.sleep(min(4.0, 0.5 * 2**attempt))

    await asyncio.gather(*(one(c) for c in clients))
    return {"accepted_at": accepted_at, "attempts": attempts, "errors": errors}


# --- orchestration ----------------------------------------------------------------------------------------


def _recv(connection: Connection, timeout_s: float = 300.0) -> Any:
    """The next answer of a child process; a child that died or hangs stops the benchmark."""
    if not connection.poll(timeout_s):
        raise TimeoutError(f"no answer from a benchmark process in {timeout_s} s")
    return connection.recv()


def _ask(connections: list[Connection], command: str, argument: Any = None) -> list[Any]:
    for connection in connections:
        connection.send((command, argument))
    return [_recv(connection) for connection in connections]


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@contextlib.contextmanager
def _database(backend: str, *, migrate: bool = False) -> Any:
    """A fresh, empty database URL for `backend`, removed after; its tables made by the migrations (as
    `smartcharge serve` insists) with `migrate`, else from the metadata."""
    from sqlalchemy import create_engine

    from app.db.tables import metadata

    if backend == "ceiling":
        yield None
        return
    if backend in ("sqlite", NO_STORE):
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{Path(tmp) / 'bench.db'}"
            engine = create_engine(url)
            metadata.create_all(engine)
            engine.dispose()
            yield url
        return
    with postgres_schema(POSTGRES_URL, migrate=migrate) as url:
        yield url


def _postgres_reachable() -> bool:
    from sqlalchemy import create_engine, text

    from app.db.engine import sync_url

    try:
        engine = create_engine(sync_url(POSTGRES_URL), connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
    except Exception:
        return False
    return True


def run_one(backend: str, size: int, *, storm: bool) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    with _database(backend) as url:
        server_end, here = context.Pipe()
        server = context.Process(target=_serve, args=(backend, url, server_end), daemon=True)
        generators: list[Any] = []
        server.start()
        try:
            port = _recv(here, 60)
            assert server.pid is not None
            rss_before = _rss_kib(server.pid)
            ids = [f"LOAD{i:05d}" for i in range(size)]
            controls = []
            for g in range(GENERATORS):
                mine, theirs = context.Pipe()
                process = context.Process(
                    target=_generate, args=(ids[g::GENERATORS], port, theirs, g), daemon=True
                )
                process.start()
                generators.append(process)
                controls.append(mine)
            started = time.perf_counter()
            connected = _ask(controls, "connect")
            connect_s = time.perf_counter() - started
            time.sleep(1.0)  # the GetConfiguration after each boot
            rss_kib_per_cp = (_rss_kib(server.pid) - rss_before) / size
            begin = time.time() + 0.5
            steady = _ask(controls, "steady", (begin, begin + STEADY_S))
            here.send("stats")
            commit_before = _recv(here)
            begin = time.time() + 0.5
            cpu_before, loop_cpu_before = _cpu_s(server.pid), _cpu_s(server.pid, main_thread=True)
            saturated = _ask(controls, "saturate", (begin, begin + SATURATE_S))
            server_cpu = (_cpu_s(server.pid) - cpu_before) / (SATURATE_S + 0.5)
            loop_cpu = (_cpu_s(server.pid, main_thread=True) - loop_cpu_before) / (SATURATE_S + 0.5)
            here.send("stats")
            commit_after = _recv(here)
            storm_figures = _ask(controls, "storm", STORM_SPREAD_S) if storm else None
            here.send("stats")
            server_stats = _recv(here)
            _ask(controls, "close")
            for process in generators:
                process.join(timeout=30)
            here.send("stop")
            _recv(here, 60)
            server.join(timeout=30)
        finally:
            for child in [server, *generators]:
                if child.is_alive():
                    child.kill()
    latencies = [x for part in steady for x in part["latencies"]]
    saturated_msgs_per_s = sum(p["answered"] for p in saturated) / SATURATE_S
    meter_ok = sum(p["meter_ok"] for p in steady) + sum(p["meter_ok"] for p in saturated)
    figures: dict[str, Any] = {
        "backend": backend,
        "charge_points": size,
        "connect_s": connect_s,
        "steady_msgs_per_s": len(latencies) / STEADY_S,
        "p50_ms": 1000 * _percentile(latencies, 0.50),
        "p99_ms": 1000 * _percentile(latencies, 0.99),
        "saturated_msgs_per_s": saturated_msgs_per_s,
        "rss_kib_per_cp": rss_kib_per_cp,
        "server_cpu_saturated": server_cpu,
        # Event-loop thread CPU per message answered: steadier between runs than the rates themselves.
        "loop_us_per_msg": 1e6 * loop_cpu / max(1.0, saturated_msgs_per_s),
        "errors": sum(p["errors"] for p in connected + steady + saturated),
        "log_errors": server_stats["log_errors"],
        "connected_at_end": server_stats["connected"],
        "gc_total_s": server_stats["gc_total_s"],
        "gc_longest_ms": server_stats["gc_longest_ms"],
        "gc_full_collections": server_stats["gc_full_collections"],
    }
    if backend != "ceiling":
        if backend != NO_STORE:
            figures["stored"] = server_stats["meter_values"] == meter_ok * SAMPLES_PER_METER_VALUES
        figures["meter_values_rows"] = server_stats["meter_values"]
        figures["meter_values_acked"] = meter_ok * SAMPLES_PER_METER_VALUES
        figures["batch_units_mean"] = server_stats["units"] / max(1, server_stats["batches"])
        # The group commit while saturated: units per batch, and writer-seconds per second spent in
        # batches (1.0 = SQLite's one writer never idle; PostgreSQL has several).
        batches = commit_after["batches"] - commit_before["batches"]
        figures["batch_units_saturated"] = (commit_after["units"] - commit_before["units"]) / max(1, batches)
        figures["commit_busy_saturated"] = (commit_after["busy_s"] - commit_before["busy_s"]) / (
            SATURATE_S + 0.5
        )
    if server_stats["first"]:
        figures["first_log_errors"] = server_stats["first"]
    if storm_figures is not None:
        accepted = [x for part in storm_figures for x in part["accepted_at"]]
        attempts = [x for part in storm_figures for x in part["attempts"]]
        figures["storm"] = {
            "reconnected": len(accepted),
            "recovered_s": max(accepted) if accepted else float("nan"),
            "p99_reconnect_boot_ms": 1000 * _percentile(attempts, 0.99),
            "errors": sum(p["errors"] for p in storm_figures),
            "pool_errors": server_stats["pool_errors"],
            "connected_after": server_stats["connected"],
        }
    return figures


def main() -> None:
    _raise_open_files()
    backends = ["ceiling", "sqlite"] + (["postgresql"] if _postgres_reachable() else []) + [NO_STORE]
    print(
        f"{GENERATORS} load-generator processes; per charge point MeterValues every {METER_PERIOD_S:g} s"
        f" and a Heartbeat every {HEARTBEAT_PERIOD_S:g} s ({STEADY_S:g} s),"
        f" then back to back ({SATURATE_S:g} s)"
    )
    if "postgresql" not in backends:
        print(f"PostgreSQL at {POSTGRES_URL} not reachable: skipped")
    header = (
        f"{'backend':<10} {'CPs':>5} {'conn s':>7} {'msgs/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'max/s':>7}"
        f" {'ceiling':>7} {'cpu':>5} {'µs/msg':>6} {'KiB/CP':>7} {'errors':>6} {'stored':>6}"
        f" {'batch':>6} {'commit':>6}"
    )
    print(header, flush=True)
    rows: list[dict[str, Any]] = []
    ceiling: dict[int, float] = {}
    for backend in backends:
        for size in [max(SIZES)] if backend == NO_STORE else SIZES:
            figures = run_one(backend, size, storm=size == max(SIZES) and backend != NO_STORE)
            if backend == "ceiling":
                ceiling[size] = figures["saturated_msgs_per_s"]
            figures["ceiling_ratio"] = (
                figures["saturated_msgs_per_s"] / ceiling[size] if ceiling.get(size) else None
            )
            rows.append(figures)
            stored = {True: "all", False: "LOST"}.get(figures.get("stored"), "-")  # type: ignore[call-overload]
            print(
                f"{backend:<10} {size:>5} {figures['connect_s']:>7.1f} {figures['steady_msgs_per_s']:>7.0f}"
                f" {figures['p50_ms']:>7.1f} {figures['p99_ms']:>7.1f}"
                f" {figures['saturated_msgs_per_s']:>7.0f}"
                f" {figures['ceiling_ratio']:>7.0%} {figures['server_cpu_saturated']:>5.0%}"
                f" {figures['loop_us_per_msg']:>6.0f}"
                f" {figures['rss_kib_per_cp']:>7.1f}"
                f" {figures['errors'] + figures['log_errors']:>6} {stored:>6}"
                + (
                    f" {figures['batch_units_saturated']:>6.0f} {figures['commit_busy_saturated']:>6.0%}"
                    if backend != "ceiling"
                    else f" {'-':>6} {'-':>6}"
                ),
                flush=True,
            )
    print(f"\nreconnect storm: all {max(SIZES)} connections dropped, each back within {STORM_SPREAD_S:g} s")
    print(
        f"{'backend':<10} {'back':>5} {'recovered s':>12} {'p99 reconnect+boot ms':>22}"
        f" {'errors':>6} {'pool errors':>11}"
    )
    for figures in rows:
        storm = figures.get("storm")
        if storm:
            print(
                f"{figures['backend']:<10} {storm['connected_after']:>5} {storm['recovered_s']:>12.1f}"
                f" {storm['p99_reconnect_boot_ms']:>22.1f} {storm['errors']:>6} {storm['pool_errors']:>11}"
            )
    print(json.dumps({"gateway": rows}, default=str))


if __name__ == "__main__":
    main()
