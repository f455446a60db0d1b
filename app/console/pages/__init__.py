"""The console's pages, one router per area."""

from fastapi import APIRouter

from app.console.pages import charge_points, commands, home, registration, sites, transactions

__all__ = ["ROUTERS"]

ROUTERS: list[APIRouter] = [
    home.router,
    charge_points.router,
    registration.router,
    sites.router,
    commands.router,
    transactions.router,
]
