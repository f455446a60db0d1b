"""Composition root: settings → engine → services → gateway + API, wired in the lifespan.

`SMARTCHARGE_ROLE` chooses what runs: `all` (the default) is the API, the OCPP gateway and the scheduler in
one process; `gateway`, `api` and `scheduler` are the parts of a scale-out layout, wired by
`app.cluster.roles` on PostgreSQL and Redis (docs/scale-out.md).
"""

import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from fastapi import FastAPI

from app.api import build_router
from app.api.docs import install_docs
from app.api.errors import install_error_handlers
from app.api.openapi import install_openapi
from app.api.text_guard import TextGuard
from app.console import install_console
from app.db.engine import Database, create_engine
from app.db.retention import MeterValueUpkeep
from app.db.store import SqlStore
from app.domain.bus import EventBus
from app.domain.clock import ScaledClock, SystemClock
from app.domain.ports import ChargePointCommands, Clock, SiteShard
from app.metrics import PrometheusMetrics, install_metrics
from app.services.access import bootstrap_admin_key
from app.services.planning import compress_periods
from app.services.planning.compliance import OverDrawRule
from app.services.planning.scheduler import Scheduler, SchedulerSettings
from app.settings import ProcessRole, Settings
from ocpp_gateway.dispatch import ProfileDispatcher
from ocpp_gateway.server import OcppServer

log = logging.getLogger("smartcharge")


class ConfigurationError(RuntimeError):
    """Settings this process cannot start with (the message says what is missing)."""


def build_clock(settings: Settings) -> Clock:
    """Real time, or the scaled clock an accelerated simulation shares with the simulator."""
    if settings.clock_speed == 1.0 and settings.clock_start is None:
        return SystemClock()
    return ScaledClock(settings.clock_speed, settings.clock_start, settings.clock_anchor)


def build_scheduler(
    settings: Settings,
    store: SqlStore,
    commands: ChargePointCommands,
    clock: Clock,
    events: EventBus,
    metrics: PrometheusMetrics,
    shard: SiteShard | None = None,
) -> Scheduler:
    dispatcher = ProfileDispatcher(
        commands, store, clock, compress=compress_periods, verify=settings.scheduler_verify_profiles
    )
    scheduler = Scheduler(
        store,
        dispatcher,
        clock,
        events,
        SchedulerSettings(
            horizon_intervals=settings.scheduler_horizon_intervals,
            debounce_s=settings.scheduler_debounce_s,
            solve_time_limit_s=settings.scheduler_solve_time_limit_s,
            solve_processes=settings.scheduler_solve_processes,
            plan_concurrency=settings.scheduler_plan_concurrency,
            retry_attempts=settings.scheduler_retry_attempts,
            retry_backoff_s=settings.scheduler_retry_backoff_s,
            reserve_draw=settings.scheduler_reserve_draw,
            over_draw=OverDrawRule(
                tolerance_kw=settings.scheduler_over_draw_tolerance_kw,
                tolerance_share=settings.scheduler_over_draw_tolerance_share,
                samples=settings.scheduler_over_draw_samples,
            ),
        ),
        metrics=metrics,
        shard=shard,
    )
    metrics.track_non_compliant(lambda: len(scheduler.state.non_compliant_charge_points()))
    return scheduler


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> FastAPI:
    """The service; `clock` replaces the one the settings describe (a simulation's shared clock)."""
    settings = settings or Settings()
    problem = settings.scale_out_problem()
    if problem is not None:
        raise ConfigurationError(problem)
    metrics = PrometheusMetrics(settings.role.value)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(
            settings.database_url, echo=settings.database_echo, pool_size=settings.database_pool_size
        )
        database = Database(engine, on_batch=metrics.write_batch)
        events = EventBus()
        store = SqlStore(database, events)
        service_clock = clock or build_clock(settings)
        app.state.settings = settings
        app.state.database = database
        app.state.store = store
        app.state.bus = events
        app.state.clock = service_clock
        app.state.metrics = metrics
        app.state.ready_checks = {"database": store.ping}
        async with AsyncExitStack() as stack:
            stack.push_async_callback(database.dispose)
            if settings.admin_token is not None and settings.role in (ProcessRole.all, ProcessRole.api):
                async with store.unit_of_work() as uow:
                    await bootstrap_admin_key(uow, settings.admin_token.get_secret_value())
            if settings.role == ProcessRole.all:
                await _embedded(app, stack, settings, store, events, service_clock, metrics)
            else:
                from app.cluster.roles import start_role

                await start_role(
                    app,
                    stack,
                    settings,
                    store,
                    events,
                    service_clock,
                    metrics,
                    lambda commands, shard: build_scheduler(
                        settings, store, commands, service_clock, events, metrics, shard
                    ),
                )
            yield

    app = FastAPI(
        title="smartcharge",
        version="0.1.0",
        summary="Central smart charging: OCPP 1.6J central system and grid-operator API",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    install_error_handlers(app)
    install_metrics(app, metrics, health=settings.role in (ProcessRole.gateway, ProcessRole.scheduler))
    if settings.role in (ProcessRole.all, ProcessRole.api):
        install_docs(app)
        app.add_middleware(TextGuard)
        app.include_router(build_router(), prefix="/api/v1")
        install_openapi(app)
        install_console(app)
    return app


async def _embedded(
    app: FastAPI,
    stack: AsyncExitStack,
    settings: Settings,
    store: SqlStore,
    events: EventBus,
    clock: Clock,
    metrics: PrometheusMetrics,
) -> None:
    """Role `all`: the gateway, the API and the scheduler share one event loop, bus and registry."""
    gateway = OcppServer(settings, store, bus=events, clock=clock, metrics=metrics)
    await gateway.start()
    stack.push_async_callback(gateway.stop)
    metrics.track_connections(gateway.registry.__len__)
    scheduler = build_scheduler(settings, store, gateway.commands, clock, events, metrics)
    if settings.scheduler_enabled:
        await scheduler.start()
    stack.push_async_callback(scheduler.stop)
    upkeep = MeterValueUpkeep(store.database, clock, settings.meter_value_retention_days)
    await upkeep.start()
    stack.push_async_callback(upkeep.stop)
    app.state.gateway = gateway
    app.state.commands = gateway.commands
    app.state.scheduler = app.state.replanner = scheduler
    app.state.ready_checks["ocpp"] = gateway.check_listening
    log.info(
        "OCPP 1.6J on ws://%s:%d/ocpp/{id}, passwords %s (docs/security.md)",
        settings.ocpp_host,
        gateway.port,
        "required" if settings.ocpp_passwords_required else "not required",
    )
