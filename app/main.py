"""Composition root: settings → engine → services → gateway + API, wired in the lifespan."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from app.api import build_router
from app.api.errors import install_error_handlers
from app.db.engine import Database, create_engine
from app.domain.clock import SystemClock
from app.services.apikeys import bootstrap_admin_key
from app.settings import Settings
from ocpp_gateway.server import OcppServer

log = logging.getLogger("smartcharge")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        database = Database(
            create_engine(
                settings.database_url, echo=settings.database_echo, pool_size=settings.database_pool_size
            )
        )
        if settings.admin_token is not None:
            async with database.session() as session:
                await bootstrap_admin_key(session, settings.admin_token.get_secret_value())
        gateway = OcppServer(settings, database, clock=SystemClock())
        await gateway.start()
        app.state.settings = settings
        app.state.database = database
        app.state.gateway = gateway
        log.info("OCPP 1.6J on ws://%s:%d/ocpp/{id}", settings.ocpp_host, gateway.port)
        try:
            yield
        finally:
            await gateway.stop()
            await database.dispose()

    app = FastAPI(
        title="smartcharge",
        version="0.1.0",
        summary="Central smart charging: OCPP 1.6J central system and grid-operator API",
        lifespan=lifespan,
    )
    install_error_handlers(app)
    app.include_router(build_router(), prefix="/api/v1")
    return app
