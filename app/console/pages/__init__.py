"""The console's pages, one router per area."""

from fastapi import APIRouter

from app.console.pages import (
    account,
    charge_point_requests,
    charge_points,
    commands,
    drivers,
    home,
    id_tags,
    registration,
    reservations,
    site_planning,
    sites,
    transactions,
    users,
)

__all__ = ["ROUTERS"]

ROUTERS: list[APIRouter] = [
    home.router,
    charge_points.router,
    registration.router,
    charge_point_requests.router,
    sites.router,
    commands.router,
    transactions.router,
    id_tags.router,
    drivers.router,
    users.router,
    account.router,
    reservations.router,
    site_planning.router,
]
