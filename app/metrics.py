"""`/metrics` in Prometheus's text format, on every role: what the gateway, the commands, the scheduler and
the database writes did. Each app has a registry of its own (tests run several apps in one process).

| metric | labels |
| --- | --- |
| `smartcharge_connected_charge_points` | |
| `smartcharge_ocpp_messages_total` | `direction` (in, out), `action`, `kind` (call, result, error) |
| `smartcharge_ocpp_handle_seconds` | `action` (histogram: a charge point's CALL, its turn to our answer) |
| `smartcharge_ocpp_round_trip_seconds` | `action` (histogram: our CALL, from sent to the answer received) |
| `smartcharge_commands_total` | `action`, `status` (accepted, rejected, error, timeout) |
| `smartcharge_replans_total` | `status` (the optimiser's) |
| `smartcharge_solve_seconds` | (histogram) |
| `smartcharge_profiles_total` | `purpose` (TxProfile, TxDefaultProfile), `status` (accepted, rejected, ...) |
| `smartcharge_non_compliant_charge_points` | (a transaction refused its profile or draws over it) |
| `smartcharge_db_write_batch_seconds` | (histogram: one group-commit batch, from its start to its commit) |
| `smartcharge_db_write_batch_units` | (histogram: units of work per batch) |
"""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

HEALTH_TIMEOUT_S = 5.0
BATCH_SECONDS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
BATCH_UNITS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000)
SOLVE_SECONDS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
OCPP_SECONDS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
ReadyCheck = Callable[[], Awaitable[None]]


class PrometheusMetrics:
    """The `app.domain.ports.Metrics` port on prometheus-client, plus the database's batch timings."""

    def __init__(self, role: str) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.role = role
        self._connected = Gauge(
            "smartcharge_connected_charge_points",
            "Charge points connected (to this gateway; the whole layout's as this process sees it elsewhere)",
            registry=self.registry,
        )
        self._messages = Counter(
            "smartcharge_ocpp_messages",
            "OCPP-J frames by direction, action and kind",
            ["direction", "action", "kind"],
            registry=self.registry,
        )
        self._handle_s = Histogram(
            "smartcharge_ocpp_handle_seconds",
            "A charge point's CALL: from its turn to our answer sent",
            ["action"],
            buckets=OCPP_SECONDS,
            registry=self.registry,
        )
        self._round_trip_s = Histogram(
            "smartcharge_ocpp_round_trip_seconds",
            "Our CALL to a charge point: from sent to its answer received",
            ["action"],
            buckets=OCPP_SECONDS,
            registry=self.registry,
        )
        self._profiles = Counter(
            "smartcharge_profiles",
            "Charging profiles sent by the scheduler, by purpose and outcome",
            ["purpose", "status"],
            registry=self.registry,
        )
        self._non_compliant = Gauge(
            "smartcharge_non_compliant_charge_points",
            "Charge points with a transaction that refused its profile or draws over its limits",
            registry=self.registry,
        )
        self._commands = Counter(
            "smartcharge_commands",
            "Commands by action and outcome",
            ["action", "status"],
            registry=self.registry,
        )
        self._replans = Counter(
            "smartcharge_replans", "Site replans by optimiser status", ["status"], registry=self.registry
        )
        self._solve = Histogram(
            "smartcharge_solve_seconds",
            "Optimiser time per replan",
            buckets=SOLVE_SECONDS,
            registry=self.registry,
        )
        self._batch_s = Histogram(
            "smartcharge_db_write_batch_seconds",
            "Group-commit batch latency",
            buckets=BATCH_SECONDS,
            registry=self.registry,
        )
        self._batch_units = Histogram(
            "smartcharge_db_write_batch_units",
            "Units of work per batch",
            buckets=BATCH_UNITS,
            registry=self.registry,
        )
        self._children: dict[tuple[str, ...], Any] = {}  # labelled children, looked up once

    def track_connections(self, count: Callable[[], int]) -> None:
        self._connected.set_function(count)

    def ocpp_message(self, direction: str, action: str, kind: str) -> None:
        self._child(self._messages, direction, action, kind).inc()

    def track_non_compliant(self, count: Callable[[], int]) -> None:
        self._non_compliant.set_function(count)

    def call_handled(self, action: str, seconds: float) -> None:
        self._child(self._handle_s, action).observe(seconds)

    def call_answered(self, action: str, seconds: float) -> None:
        self._child(self._round_trip_s, action).observe(seconds)

    def command_finished(self, action: str, status: str) -> None:
        self._child(self._commands, action, status).inc()

    def profile_dispatched(self, purpose: str, status: str) -> None:
        self._child(self._profiles, purpose, status).inc()

    def replanned(self, status: str, solve_s: float) -> None:
        self._child(self._replans, status).inc()
        self._solve.observe(solve_s)

    def write_batch(self, seconds: float, units: int) -> None:
        self._batch_s.observe(seconds)
        self._batch_units.observe(units)

    def _child(self, metric: Any, *labels: str) -> Any:
        key = (metric._name, *labels)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*labels)
        return child

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


def install_metrics(app: FastAPI, metrics: PrometheusMetrics, *, health: bool) -> None:
    """`/metrics` and `/ready` (every check in `app.state.ready_checks` answers); with `health`, also
    `/health` (for roles without the API, whose is `/api/v1/health`)."""

    @app.get("/metrics", include_in_schema=False)
    async def prometheus() -> Response:
        return Response(metrics.exposition(), media_type=CONTENT_TYPE_LATEST)

    @app.get("/ready", include_in_schema=False)
    async def ready(request: Request) -> JSONResponse:
        checks: dict[str, ReadyCheck] = getattr(request.app.state, "ready_checks", {})
        results = await asyncio.gather(*(_outcome(check) for check in checks.values()))
        found = dict(zip(checks, results, strict=True))
        fine = bool(found) and all(result == "ok" for result in found.values())
        body = {"status": "ready" if fine else "unavailable", "role": metrics.role, "checks": found}
        return JSONResponse(body, status_code=200 if fine else 503)

    if not health:
        return

    @app.get("/health", include_in_schema=False)
    async def check(request: Request) -> JSONResponse:
        try:
            async with asyncio.timeout(HEALTH_TIMEOUT_S):
                await request.app.state.store.ping()
        except Exception as error:
            body = {"status": "unavailable", "role": metrics.role, "database": type(error).__name__}
            return JSONResponse(body, status_code=503)
        return JSONResponse({"status": "ok", "role": metrics.role, "database": "ok"})


async def _outcome(check: ReadyCheck) -> str:
    """ "ok", or what went wrong."""
    try:
        async with asyncio.timeout(HEALTH_TIMEOUT_S):
            await check()
    except TimeoutError:
        return f"no answer in {HEALTH_TIMEOUT_S:g} s"
    except Exception as error:
        return str(getattr(error, "detail", "")) or f"{type(error).__name__}: {error}"
    return "ok"
