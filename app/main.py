"""Composition root: settings → engine → services → gateway + API, wired in the lifespan."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from app.api import build_router
from app.api.docs import install_docs
from app.api.errors import install_error_handlers
from app.api.openapi import install_openapi
from app.api.text_guard import TextGuard
from app.console import install_console
from app.db.engine import Database, create_engine
from app.db.store import SqlStore
from app.domain.bus import EventBus
from app.domain.clock import ScaledClock, SystemClock
from app.domain.ports import Clock
from app.services.access import bootstrap_admin_key
from app.services.planning import compress_periods
from app.services.planning.compliance import OverDrawRule
from app.services.planning.scheduler import Scheduler, SchedulerSettings
from app.settings import Settings
from ocpp_gateway.dispatch import ProfileDispatcher
from ocpp_gateway.server import OcppServer

log = logging.getLogger("smartcharge")


def build_clock(settings: Settings) -> Clock:
    """Real time, or the scaled clock an accelerated simulation shares with the simulator."""
    if settings.clock_speed == 1.0 and settings.clock_start is None:
        return SystemClock()
    return ScaledClock(settings.clock_speed, settings.clock_start, settings.clock_anchor)


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> FastAPI:
    """The service; `clock` replaces the one the settings describe (a simulation's shared clock)."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        database = Database(
            create_engine(
                settings.database_url, echo=settings.database_echo, pool_size=settings.database_pool_size
            )
        )
        events = EventBus()
        store = SqlStore(database, events)
        if settings.admin_token is not None:
            async with store.unit_of_work() as uow:
                await bootstrap_admin_key(uow, settings.admin_token.get_secret_value())
        service_clock = clock or build_clock(settings)
        gateway = OcppServer(settings, store, bus=events, clock=service_clock)
        await gateway.start()
        dispatcher = ProfileDispatcher(
            gateway.commands,
            store,
            service_clock,
            compress=compress_periods,
            verify=settings.scheduler_verify_profiles,
        )
        scheduler = Scheduler(
            store,
            dispatcher,
            service_clock,
            events,
            SchedulerSettings(
                horizon_intervals=settings.scheduler_horizon_intervals,
                debounce_s=settings.scheduler_debounce_s,
                solve_time_limit_s=settings.scheduler_solve_time_limit_s,
                retry_attempts=settings.scheduler_retry_attempts,
                retry_backoff_s=settings.scheduler_retry_backoff_s,
                reserve_draw=settings.scheduler_reserve_draw,
                over_draw=OverDrawRule(
                    tolerance_kw=settings.scheduler_over_draw_tolerance_kw,
                    tolerance_share=settings.scheduler_over_draw_tolerance_share,
                    samples=settings.scheduler_over_draw_samples,
                ),
            ),
        )
        if settings.scheduler_enabled:
            await scheduler.start()
        app.state.settings = settings
        app.state.database = database
        app.state.store = store
        app.state.bus = events
        app.state.gateway = gateway
        app.state.commands = gateway.commands
        app.state.scheduler = scheduler
        app.state.clock = service_clock
        log.info(
            "OCPP 1.6J on ws://%s:%d/ocpp/{id}, passwords %s (docs/security.md)",
            settings.ocpp_host,
            gateway.port,
            "required" if settings.ocpp_passwords_required else "not required",
        )
        try:
            yield
        finally:
            await scheduler.stop()
            await gateway.stop()
            await database.dispose()

    app = FastAPI(
        title="smartcharge",
        version="0.1.0",
        summary="Central smart charging: OCPP 1.6J central system and grid-operator API",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    install_error_handlers(app)
    install_docs(app)
    app.add_middleware(TextGuard)
    app.include_router(build_router(), prefix="/api/v1")
    install_openapi(app)
    install_console(app)
    return app
