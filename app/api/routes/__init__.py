"""Routers included under /api/v1, in the order they appear in the OpenAPI document."""

from fastapi import APIRouter

from app.api.routes import (
    api_keys,
    charge_points,
    commands,
    demand,
    drivers,
    forecasts,
    id_tags,
    meter_values,
    overrides,
    reservations,
    schedules,
    security,
    sites,
    status,
    transactions,
)

ROUTERS: list[APIRouter] = [
    status.router,
    charge_points.router,
    commands.router,
    security.router,
    id_tags.router,
    drivers.router,
    transactions.router,
    meter_values.router,
    reservations.router,
    api_keys.router,
    sites.router,
    forecasts.router,
    overrides.router,
    demand.router,
    schedules.router,
]
