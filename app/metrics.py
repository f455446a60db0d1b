"""`/metrics` in Prometheus's text format, on every role: what the gateway, the commands, the scheduler and
the database writes did. Each app has a registry of its own (tests run several apps in one process).

| metric | labels |
| --- | --- |
| `smartcharge_connected_charge_points` | |
| `smartcharge_ocpp_messages_total` | `direction` (in, out), `action`, `kind` (call, result, error) |
| `smartcharge_commands_total` | `action`, `status` (accepted, rejected, error, timeout) |
| `smartcharge_replans_total` | `status` (the optimiser's) |
| `smartcharge_solve_seconds` | (histogram) |
| `smartcharge_db_write_batch_seconds` | (histogram: one group-commit batch, from its start to its commit) |
| `smartcharge_db_write_batch_units` | (histogram: units of work per batch) |
"""

import asyncio
from collections.abc import Callable
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

    def command_finished(self, action: str, status: str) -> None:
        self._child(self._commands, action, status).inc()

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
    """`/metrics`; with `health`, also `/health` (for roles without the API, whose is `/api/v1/health`)."""

    @app.get("/metrics", include_in_schema=False)
    async def prometheus() -> Response:
        return Response(metrics.exposition(), media_type=CONTENT_TYPE_LATEST)

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
