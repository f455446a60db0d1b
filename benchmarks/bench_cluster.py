"""Scale-out: gateways as processes of their own (`smartcharge serve --role gateway`), an `api` process, one
PostgreSQL schema and one Redis prefix, as docs/scale-out.md lays them out.

1. Throughput: charge points played by the load generator of the gateway benchmark (two processes, raw
   OCPP-J frames) connect and boot, then send MeterValues and Heartbeats back to back (five to one) for
   SMARTCHARGE_BENCH_CLUSTER_SATURATE_S seconds; once with both generators on one gateway process, once
   with one generator on each of two. "msgs/CPU-s" is the messages a gateway answered in that window over
   the CPU seconds its whole process (event loop, group-commit threads, its own HTTP server) spent in it,
   read from /proc. The ceiling is the gateway benchmark's: a bare `websockets` server answering every
   frame with a fixed CALLRESULT, under the same generators, in the same run.
2. Command round trip: GetConfiguration commands posted one after another to the api process's HTTP API,
   to charge points on either gateway in turn; the time from the POST until `GET /api/v1/commands/{id}`
   (polled every millisecond) shows the charge point's answer. Target: p99 < 20 ms on loopback.
3. Failover: `kill -9` of one gateway; its charge points reconnect to the other (each after a random delay
   of up to SMARTCHARGE_BENCH_CLUSTER_SPREAD_S seconds, as real ones back off); the time from the kill until
   the api process lists every one of them as connected again, since after the kill.

Sizes: SMARTCHARGE_BENCH_CLUSTER_CPS charge points (default 200), SMARTCHARGE_BENCH_CLUSTER_COMMANDS
commands (default 200). SMARTCHARGE_BENCH_CLUSTER_PARTS (default "throughput,commands,failover") names the
parts to run, e.g. "commands" for the round trip alone. PostgreSQL: a fresh schema in
SMARTCHARGE_BENCH_POSTGRES_URL (else SMARTCHARGE_TEST_POSTGRES_URL), dropped after; Redis:
SMARTCHARGE_BENCH_REDIS_URL (else SMARTCHARGE_TEST_REDIS_URL, else redis://127.0.0.1:6379/0) under a prefix
of its own, cleared after.
Skipped when either cannot be reached.
"""

import asyncio
import json
import multiprocessing
import os
import time
import uuid
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from typing import Any

import httpx

from benchmarks.bench_gateway import (
    GENERATORS,
    _ask,
    _cpu_s,
    _database,
    _generate,
    _percentile,
    _postgres_reachable,
    _raise_open_files,
    _recv,
    _serve,
)
from benchmarks.roles import ADMIN_TOKEN, Cluster, Served, role_process

CHARGE_POINTS = int(os.environ.get("SMARTCHARGE_BENCH_CLUSTER_CPS", "200"))
COMMANDS = int(os.environ.get("SMARTCHARGE_BENCH_CLUSTER_COMMANDS", "200"))
SATURATE_S = float(os.environ.get("SMARTCHARGE_BENCH_CLUSTER_SATURATE_S", "8"))
SPREAD_S = float(os.environ.get("SMARTCHARGE_BENCH_CLUSTER_SPREAD_S", "1"))
PARTS = frozenset(
    os.environ.get("SMARTCHARGE_BENCH_CLUSTER_PARTS", "throughput,commands,failover").split(",")
)
REDIS_URL = os.environ.get(
    "SMARTCHARGE_BENCH_REDIS_URL", os.environ.get("SMARTCHARGE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
)
FAILOVER_DEADLINE_S = 60.0
PAGE = 1000  # the API's largest page


def _redis_reachable(url: str) -> bool:
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
    try:
        return bool(client.ping())
    except Exception:
        return False
    finally:
        client.close()


def _clear_redis(url: str, prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


class _Generators:
    """The gateway benchmark's load-generator processes, generator `g` playing `cp_ids[g::GENERATORS]`
    against `ports[g]`."""

    def __init__(self, context: Any, cp_ids: list[str], ports: list[int]) -> None:
        self.processes: list[Any] = []
        self.controls: list[Connection] = []
        self.cp_ids = [cp_ids[g::GENERATORS] for g in range(GENERATORS)]
        for g in range(GENERATORS):
            mine, theirs = context.Pipe()
            process = context.Process(
                target=_generate, args=(self.cp_ids[g], ports[g], theirs, g), daemon=True
            )
            process.start()
            self.processes.append(process)
            self.controls.append(mine)

    def connect(self) -> int:
        """Connect and boot every charge point; the errors on the way."""
        return sum(part["errors"] for part in _ask(self.controls, "connect"))

    def saturate(self, seconds: float) -> list[dict[str, Any]]:
        begin = time.time() + 0.5
        return _ask(self.controls, "saturate", (begin, begin + seconds))

    def close(self) -> None:
        try:
            _ask(self.controls, "close")
        finally:
            for process in self.processes:
                process.join(timeout=30)
                if process.is_alive():
                    process.kill()


def _saturated(
    context: Any, cp_ids: list[str], ports: list[int], pids: list[int], seconds: float
) -> dict[str, Any]:
    """Back-to-back load over the servers on `ports` (generator g on ports[g]); per server process `pids`
    (one per distinct port): messages answered and CPU seconds spent."""
    generators = _Generators(context, cp_ids, ports)
    try:
        connect_errors = generators.connect()
        cpu_before = [_cpu_s(pid) for pid in pids]
        parts = generators.saturate(seconds)
        cpu = [_cpu_s(pid) - before for pid, before in zip(pids, cpu_before, strict=True)]
    finally:
        generators.close()
    distinct = sorted(set(ports), key=ports.index)
    answered = [
        sum(p["answered"] for p, port in zip(parts, ports, strict=True) if port == d) for d in distinct
    ]
    return {
        "processes": len(pids),
        "msgs_per_s": sum(answered) / seconds,
        "msgs_per_cpu_s": [n / max(1e-9, c) for n, c in zip(answered, cpu, strict=True)],
        "cpu_share": [c / (seconds + 0.5) for c in cpu],
        "errors": connect_errors + sum(p["errors"] for p in parts),
    }


def _ceiling(context: Any, cp_ids: list[str], seconds: float) -> dict[str, Any]:
    """The gateway benchmark's ceiling (a bare `websockets` server) under the same generators."""
    server_end, here = context.Pipe()
    server = context.Process(target=_serve, args=("ceiling", None, server_end), daemon=True)
    server.start()
    try:
        port = _recv(here, 60)
        assert server.pid is not None
        figures = _saturated(context, cp_ids, [port] * GENERATORS, [server.pid], seconds)
        here.send("stop")
        _recv(here, 60)
    finally:
        server.join(timeout=30)
        if server.is_alive():
            server.kill()
    return figures


async def _command_round_trips(
    api: httpx.AsyncClient, cp_ids: list[str], count: int, pids: list[int]
) -> dict[str, Any]:
    """`count` GetConfiguration commands, one at a time, to `cp_ids` in turn: seconds from the POST until
    the api process shows the outcome, and the CPU time the processes `pids` (api, gateways) spent; then
    as many again with `?wait=true` (the outcome in the POST's own answer)."""
    cpu_before = sum(_cpu_s(pid) for pid in pids)
    round_trips: list[float] = []
    posts: list[float] = []  # until the 202: the command recorded and sent by its holder
    outcomes: dict[str, int] = {}
    for k in range(count):
        started = time.perf_counter()
        command_id = await _post(api, cp_ids[k % len(cp_ids)], wait=False)
        status = str(command_id)  # `http NNN` unless it is an id
        if isinstance(command_id, int):
            posts.append(time.perf_counter() - started)
            while True:
                status = str((await api.get(f"/api/v1/commands/{command_id}")).json()["status"])
                if status != "pending":
                    break
                await asyncio.sleep(0.001)
        outcomes[status] = outcomes.get(status, 0) + 1
        if status == "accepted":
            round_trips.append(time.perf_counter() - started)
    cpu_s = sum(_cpu_s(pid) for pid in pids) - cpu_before
    waited: list[float] = []
    for k in range(count):
        started = time.perf_counter()
        status = str(await _post(api, cp_ids[k % len(cp_ids)], wait=True))
        outcomes[f"waited {status}"] = outcomes.get(f"waited {status}", 0) + 1
        if status == "accepted":
            waited.append(time.perf_counter() - started)
    return {
        "commands": count,
        "cpu_ms_per_command": 1000 * cpu_s / max(1, count),
        "outcomes": outcomes,
        "p50_ms": 1000 * _percentile(round_trips, 0.50),
        "p99_ms": 1000 * _percentile(round_trips, 0.99),
        "post_p50_ms": 1000 * _percentile(posts, 0.50),
        "post_p99_ms": 1000 * _percentile(posts, 0.99),
        "wait_p50_ms": 1000 * _percentile(waited, 0.50),
        "wait_p99_ms": 1000 * _percentile(waited, 0.99),
    }


async def _post(api: httpx.AsyncClient, cp_id: str, *, wait: bool) -> int | str:
    """POST one GetConfiguration: its command id (`wait`: its status once answered), else `http NNN`."""
    posted = await api.post(
        f"/api/v1/charge-points/{cp_id}/commands",
        params={"wait": "true"} if wait else None,
        json={"action": "GetConfiguration", "payload": {}},
    )
    if posted.status_code != 202:
        return f"http {posted.status_code}"
    command = posted.json()
    return str(command["status"]) if wait else int(command["id"])


async def _held_again(api: httpx.AsyncClient, cp_ids: set[str], since: datetime) -> bool:
    """Whether the api process lists every one of `cp_ids` as connected, each since `since` or later."""
    held: set[str] = set()
    offset = 0
    while True:
        page = (
            await api.get(
                "/api/v1/charge-points", params={"connected": "true", "limit": PAGE, "offset": offset}
            )
        ).json()
        for item in page["items"]:
            connected_since = item["connected_since"]
            if connected_since and datetime.fromisoformat(connected_since) >= since:
                held.add(item["id"])
        offset += PAGE
        if offset >= page["total"]:
            return cp_ids <= held


async def _cluster(
    context: Any, cluster: Cluster, size: int, seconds: float, commands: int
) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    quiet = {"log_level": "WARNING"}
    async with (
        role_process(cluster, "gateway", gateway_id="gw-a", **quiet) as gateway_a,
        role_process(cluster, "gateway", gateway_id="gw-b", **quiet) as gateway_b,
        role_process(cluster, "api", **quiet) as api_process,
        httpx.AsyncClient(
            base_url=api_process.url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=30
        ) as api,
    ):
        a, b = gateway_a, gateway_b
        if "throughput" in PARTS:
            one = [f"ONE{i:05d}" for i in range(size)]
            figures["one_gateway"] = _saturated(
                context, one, [a.ocpp_port] * GENERATORS, [a.process.pid], seconds
            )
            two = [f"TWO{i:05d}" for i in range(size)]
            figures["two_gateways"] = _saturated(
                context, two, [a.ocpp_port, b.ocpp_port], [a.process.pid, b.process.pid], seconds
            )
        if PARTS & {"commands", "failover"}:
            figures |= await _commands_and_failover(context, api, api_process, a, b, size, commands)
    return figures


async def _commands_and_failover(
    context: Any, api: httpx.AsyncClient, api_process: Served, a: Served, b: Served, size: int, commands: int
) -> dict[str, Any]:
    cp_ids = [f"CMD{i:05d}" for i in range(size)]
    generators = _Generators(context, cp_ids, [a.ocpp_port, b.ocpp_port])  # 0 on gateway a, 1 on b
    try:
        connect_errors = generators.connect()
        everyone = set(cp_ids)
        deadline = time.monotonic() + FAILOVER_DEADLINE_S
        while not await _held_again(api, everyone, datetime.min.replace(tzinfo=UTC)):
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"the api process never listed every charge point as connected ({connect_errors} errors)"
                )
            await asyncio.sleep(0.05)
        figures: dict[str, Any] = {}
        if "commands" in PARTS:
            pids = [api_process.process.pid, a.process.pid, b.process.pid]
            figures["commands"] = await _command_round_trips(api, cp_ids, commands, pids)
            figures["commands"]["connect_errors"] = connect_errors
        if "failover" not in PARTS:
            return figures
        moved = set(generators.cp_ids[1])
        killed_at = datetime.now(UTC)
        started = time.perf_counter()
        b.process.kill()  # SIGKILL: no goodbye to Redis, no presence released
        generators.controls[1].send(("move", (a.ocpp_port, SPREAD_S)))
        held_s = float("nan")
        while time.perf_counter() - started < FAILOVER_DEADLINE_S:
            if await _held_again(api, moved, killed_at):
                held_s = time.perf_counter() - started
                break
            await asyncio.sleep(0.02)
        storm = _recv(generators.controls[1], 120)
        figures["failover"] = {
            "charge_points": len(moved),
            "spread_s": SPREAD_S,
            "held_again_s": held_s,
            "reconnected": len(storm["accepted_at"]),
            "last_accepted_s": max(storm["accepted_at"], default=float("nan")),
            "errors": storm["errors"],
        }
    finally:
        generators.close()
    return figures


def run(size: int, seconds: float, commands: int) -> dict[str, Any]:
    """Every figure of this benchmark at `size` charge points."""
    _raise_open_files()
    context = multiprocessing.get_context("spawn")
    figures: dict[str, Any] = {"charge_points": size, "saturate_s": seconds}
    if "throughput" in PARTS:
        figures["ceiling"] = _ceiling(context, [f"CEIL{i:05d}" for i in range(size)], seconds)
    with _database("postgresql", migrate=True) as url:
        prefix = f"bench-{uuid.uuid4().hex[:10]}"
        try:
            figures |= asyncio.run(
                _cluster(context, Cluster(url, REDIS_URL, prefix), size, seconds, commands)
            )
        finally:
            _clear_redis(REDIS_URL, prefix)
    return figures


def _print_throughput(figures: dict[str, Any]) -> None:
    ceiling = figures["ceiling"]["msgs_per_s"]
    print(
        f"{'server':<14} {'msgs/s':>7} {'ceiling':>7} {'msgs/CPU-s per process':>24}"
        f" {'cpu':>11} {'errors':>6}"
    )
    for name in ("ceiling", "one_gateway", "two_gateways"):
        row = figures[name]
        print(
            f"{name:<14} {row['msgs_per_s']:>7.0f} {row['msgs_per_s'] / ceiling:>7.0%}"
            f" {' '.join(f'{x:.0f}' for x in row['msgs_per_cpu_s']):>24}"
            f" {' '.join(f'{x:.0%}' for x in row['cpu_share']):>11} {row['errors']:>6}"
        )


def main() -> None:
    if not _postgres_reachable():
        print("PostgreSQL not reachable (SMARTCHARGE_BENCH_POSTGRES_URL): skipped")
        return
    if not _redis_reachable(REDIS_URL):
        print(f"Redis at {REDIS_URL} not reachable: skipped")
        return
    print(
        f"{CHARGE_POINTS} charge points from {GENERATORS} load-generator processes, back to back for"
        f" {SATURATE_S:g} s; {COMMANDS} commands; failover spread {SPREAD_S:g} s; {os.cpu_count()} CPUs",
        flush=True,
    )
    figures = run(CHARGE_POINTS, SATURATE_S, COMMANDS)
    if "ceiling" in figures:
        _print_throughput(figures)
    if "commands" in figures:
        commands = figures["commands"]
        print(
            f"command round trip api -> gateway -> charge point -> api: p50 {commands['p50_ms']:.1f} ms,"
            f" p99 {commands['p99_ms']:.1f} ms (of which the POST until its 202:"
            f" p50 {commands['post_p50_ms']:.1f} ms,"
            f" p99 {commands['post_p99_ms']:.1f} ms); api + gateways CPU"
            f" {commands['cpu_ms_per_command']:.1f} ms per command"
        )
        print(
            f"with ?wait=true (the outcome in the POST's answer): p50 {commands['wait_p50_ms']:.1f} ms,"
            f" p99 {commands['wait_p99_ms']:.1f} ms; outcomes {commands['outcomes']}"
        )
    if "failover" in figures:
        failover = figures["failover"]
        print(
            f"failover: {failover['charge_points']} charge points of the killed gateway listed as connected"
            f" again after {failover['held_again_s']:.2f} s (last reconnect accepted at"
            f" {failover['last_accepted_s']:.2f} s,"
            f" {failover['errors']} failed attempts)"
        )
    print(json.dumps({"cluster": figures}, default=str))


if __name__ == "__main__":
    main()
