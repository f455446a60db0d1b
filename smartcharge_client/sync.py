"""The blocking client: `Client(url, api_key)`; every read returns pandas objects."""

import os
from types import TracebackType
from typing import Any, TypeVar

import httpx
import pandas as pd

from smartcharge_client import frames
from smartcharge_client import queries as q
from smartcharge_client.errors import raise_for_problem
from smartcharge_client.queries import ForecastData, Pager, Query, When

T = TypeVar("T")
DEFAULT_URL = "http://127.0.0.1:8000"


def connection(base_url: str | None, api_key: str | None) -> tuple[str, dict[str, str]]:
    """The API's base URL (`…/api/v1`) and headers; `SMARTCHARGE_URL` / `SMARTCHARGE_API_KEY` by default."""
    base = (base_url or os.environ.get("SMARTCHARGE_URL") or DEFAULT_URL).rstrip("/")
    if not base.endswith("/api/v1"):
        base += "/api/v1"
    key = api_key or os.environ.get("SMARTCHARGE_API_KEY")
    return base, {"Authorization": f"Bearer {key}"} if key else {}


class Client:
    """smartcharge's HTTP API for analysts and grid operators, blocking. Lists are read page by page to
    the end (or `max_items`); errors raise `ApiError` subclasses with the problem details."""

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        timeout_s: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        base, headers = connection(base_url, api_key)
        self.http = httpx.Client(base_url=base, headers=headers, timeout=timeout_s, transport=transport)

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self.http.close()

    def _get(self, path: str, params: Any) -> Any:
        response = self.http.get(path, params=params)
        raise_for_problem(response)
        return response.json()

    def run(self, query: Query[T]) -> T:
        if not query.paged:
            return query.read(self._get(query.path, query.params))
        pager = Pager(query)
        while (params := pager.next_params()) is not None:
            pager.add(self._get(query.path, params))
        return pager.result()

    # --- reads -----------------------------------------------------------------------------------------

    def sites(self) -> pd.DataFrame:
        return self.run(q.sites())

    def site(self, site_id: int) -> dict[str, Any]:
        return self.run(q.site(site_id))

    def charge_points(
        self, *, site_id: int | None = None, connected: bool | None = None, max_items: int | None = None
    ) -> pd.DataFrame:
        return self.run(q.charge_points(site_id, connected, max_items))

    def transactions(
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
        return self.run(
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

    def meter_values(
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
        return self.run(
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

    def forecasts(self, site_id: int, *, issued_from: When = None, issued_to: When = None) -> pd.DataFrame:
        return self.run(q.forecasts(site_id, issued_from, issued_to))

    def forecast(self, site_id: int, forecast_pk: int) -> frames.Forecast:
        return self.run(q.forecast(site_id, forecast_pk))

    def effective_forecast(
        self, site_id: int, *, since: When = None, until: When = None, as_of: When = None
    ) -> pd.DataFrame:
        """Per site interval: the limit in force and the forecast it comes from."""
        return self.run(q.effective_forecast(site_id, since, until, as_of))

    def schedule(self, site_id: int, revision: int | None = None) -> frames.Schedule:
        """The latest schedule revision, or `revision`, with its explanation."""
        return self.run(q.schedule(site_id, revision))

    def revisions(
        self, site_id: int, *, since: When = None, until: When = None, max_items: int | None = None
    ) -> pd.DataFrame:
        return self.run(q.revisions(site_id, since, until, max_items))

    def load(self, site_id: int, *, since: When = None, until: When = None) -> pd.DataFrame:
        """Per interval: forecast limit, capacity, planned and measured site power (kW)."""
        return self.run(q.load(site_id, since, until))

    def compliance(self, site_id: int, *, since: When = None, until: When = None) -> pd.DataFrame:
        return self.run(q.compliance(site_id, since, until))

    def overrides(
        self,
        *,
        site_id: int | None = None,
        active: bool | None = None,
        include_deleted: bool = False,
        transaction_id: int | None = None,
    ) -> pd.DataFrame:
        return self.run(
            q.overrides(
                site_id=site_id, active=active, include_deleted=include_deleted, transaction_id=transaction_id
            )
        )

    def override_audit(self, override_id: int) -> pd.DataFrame:
        return self.run(q.override_audit(override_id))

    # --- the grid operator's write ---------------------------------------------------------------------

    def post_forecast(
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
        response = self.http.post(
            f"/sites/{site_id}/forecasts", content=body, params=params, headers={"Content-Type": media}
        )
        raise_for_problem(response)
        stored: dict[str, Any] = response.json()
        return stored
