"""The asyncio client: `AsyncClient(url, api_key)`, the same reads as `Client` with `await`."""

from types import TracebackType
from typing import Any, TypeVar

import httpx
import pandas as pd

from smartcharge_client import frames
from smartcharge_client import queries as q
from smartcharge_client.errors import raise_for_problem
from smartcharge_client.queries import ForecastData, Pager, Query, When
from smartcharge_client.sync import connection

T = TypeVar("T")


class AsyncClient:
    """smartcharge's HTTP API for analysts and grid operators, with asyncio. Lists are read page by page to
    the end (or `max_items`); errors raise `ApiError` subclasses with the problem details."""

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        timeout_s: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        base, headers = connection(base_url, api_key)
        self.http = httpx.AsyncClient(base_url=base, headers=headers, timeout=timeout_s, transport=transport)

    async def __aenter__(self) -> "AsyncClient":
        return self

    async def __aexit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self.http.aclose()

    async def _get(self, path: str, params: Any) -> Any:
        response = await self.http.get(path, params=params)
        raise_for_problem(response)
        return response.json()

    async def run(self, query: Query[T]) -> T:
        if not query.paged:
            return query.read(await self._get(query.path, query.params))
        pager = Pager(query)
        while (params := pager.next_params()) is not None:
            pager.add(await self._get(query.path, params))
        return pager.result()

    # --- reads -----------------------------------------------------------------------------------------

    async def sites(self) -> pd.DataFrame:
        return await self.run(q.sites())

    async def site(self, site_id: int) -> dict[str, Any]:
        return await self.run(q.site(site_id))

    async def charge_points(
        self, *, site_id: int | None = None, connected: bool | None = None, max_items: int | None = None
    ) -> pd.DataFrame:
        return await self.run(q.charge_points(site_id, connected, max_items))

    async def transactions(
        self,
        *,
        site_id: int | None = None,
        charge_point_id: str | None = None,
        id_tag: str | None = None,
        since: When = None,
        until: When = None,
        active: bool | None = None,
        max_items: int | None = None,
    ) -> pd.DataFrame:
        """Transactions overlapping [since, until), by id."""
        return await self.run(
            q.transactions(
                max_items,
                site_id=site_id,
                charge_point_id=charge_point_id,
                id_tag=id_tag,
                since=since,
                until=until,
                active=active,
            )
        )

    async def meter_values(
        self,
        *,
        site_id: int | None = None,
        charge_point_id: str | None = None,
        connector_id: int | None = None,
        transaction_id: int | None = None,
        measurand: str | None = None,
        since: When = None,
        until: When = None,
        max_items: int | None = None,
    ) -> pd.DataFrame:
        """Samples taken in [since, until), indexed by time; W and Wh also as `power_kw` / `energy_kwh`."""
        return await self.run(
            q.meter_values(
                max_items,
                site_id=site_id,
                charge_point_id=charge_point_id,
                connector_id=connector_id,
                transaction_id=transaction_id,
                measurand=measurand,
                since=since,
                until=until,
            )
        )

    async def forecasts(
        self, site_id: int, *, issued_from: When = None, issued_to: When = None
    ) -> pd.DataFrame:
        return await self.run(q.forecasts(site_id, issued_from, issued_to))

    async def forecast(self, site_id: int, forecast_pk: int) -> frames.Forecast:
        return await self.run(q.forecast(site_id, forecast_pk))

    async def effective_forecast(
        self, site_id: int, *, since: When = None, until: When = None, as_of: When = None
    ) -> pd.DataFrame:
        """Per site interval: the limit in force and the forecast it comes from."""
        return await self.run(q.effective_forecast(site_id, since, until, as_of))

    async def schedule(self, site_id: int, revision: int | None = None) -> frames.Schedule:
        """The latest schedule revision, or `revision`, with its explanation."""
        return await self.run(q.schedule(site_id, revision))

    async def revisions(
        self, site_id: int, *, since: When = None, until: When = None, max_items: int | None = None
    ) -> pd.DataFrame:
        return await self.run(q.revisions(site_id, since, until, max_items))

    async def load(self, site_id: int, *, since: When = None, until: When = None) -> pd.DataFrame:
        """Per interval: forecast limit, capacity, planned and measured site power (kW)."""
        return await self.run(q.load(site_id, since, until))

    async def compliance(self, site_id: int, *, since: When = None, until: When = None) -> pd.DataFrame:
        return await self.run(q.compliance(site_id, since, until))

    async def overrides(
        self,
        *,
        site_id: int | None = None,
        active: bool | None = None,
        include_deleted: bool = False,
        transaction_id: int | None = None,
    ) -> pd.DataFrame:
        return await self.run(
            q.overrides(
                site_id=site_id, active=active, include_deleted=include_deleted, transaction_id=transaction_id
            )
        )

    async def override_audit(self, override_id: int) -> pd.DataFrame:
        return await self.run(q.override_audit(override_id))

    # --- the grid operator's write ---------------------------------------------------------------------

    async def post_forecast(
        self,
        site_id: int,
        data: ForecastData,
        *,
        forecast_id: str | None = None,
        issued_at: When = None,
    ) -> dict[str, Any]:
        """Post a forecast from a DataFrame (start, end, limit_kw), a CSV file or CSV text; returns the
        stored forecast (the same one again for a replay of the same `forecast_id`)."""
        media, body, params = q.forecast_body(data, forecast_id, issued_at)
        response = await self.http.post(
            f"/sites/{site_id}/forecasts", content=body, params=params, headers={"Content-Type": media}
        )
        raise_for_problem(response)
        stored: dict[str, Any] = response.json()
        return stored
