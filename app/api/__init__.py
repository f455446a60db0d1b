"""HTTP API under /api/v1: one router module per resource in `app.api.routes`."""

from fastapi import APIRouter

__all__ = ["build_router"]


def build_router() -> APIRouter:
    from app.api.routes import ROUTERS

    router = APIRouter()
    for sub in ROUTERS:
        router.include_router(sub)
    return router
