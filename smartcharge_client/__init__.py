"""A Python client for smartcharge's HTTP API, on httpx, that answers in pandas:

    from smartcharge_client import Client
    sc = Client("http://127.0.0.1:8000", api_key="...")
    load = sc.load(site_id=1, since="2030-03-01T00:00+01:00", until="2030-03-02T00:00+01:00")
    load[["limit_kw", "planned_kw", "measured_kw"]].plot()

`AsyncClient` offers the same with `await`. It imports nothing of the service."""

from smartcharge_client.aio import AsyncClient
from smartcharge_client.errors import ApiError, Conflict, Forbidden, Invalid, NotFound, Unauthorized
from smartcharge_client.frames import Forecast, Schedule
from smartcharge_client.sync import Client

__all__ = [
    "ApiError",
    "AsyncClient",
    "Client",
    "Conflict",
    "Forbidden",
    "Forecast",
    "Invalid",
    "NotFound",
    "Schedule",
    "Unauthorized",
]
