"""The service as the planning tests run it (uvicorn on loopback, a real database)."""

from tests.planning.conftest import admin, planning

__all__ = ["admin", "planning"]
