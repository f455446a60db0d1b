"""The client against the real service: uvicorn on loopback, a real database (SQLite, PostgreSQL), the
blocking client from a worker thread and the asyncio client in the test's loop."""

from datetime import timedelta
from typing import Any

import anyio
import httpx
import pandas as pd
import pytest

from app.db.store import SqlUnitOfWork
from app.domain.enums import Role
from app.services.access import create_api_key
from smartcharge_client import AsyncClient, Client, Conflict, Forbidden, Invalid, NotFound, Unauthorized
from tests.api import seed
from tests.planning.conftest import Planning, make_site, next_hour
from tests.planning.test_analyst_reads import T0, store_revisions, two_sites


async def key(planning: Planning, role: Role, site_ids: list[int] | None = None) -> str:
    async with planning.database.session() as session:
        _, token = await create_api_key(SqlUnitOfWork(session), role, f"client {role}", site_ids=site_ids)
    return token


def is_utc(values: Any) -> bool:
    return isinstance(values.dtype, pd.DatetimeTZDtype) and str(values.dtype.tz) == "UTC"


@pytest.mark.anyio
async def test_reads_as_typed_frames_paging_past_a_page(planning: Planning, admin: httpx.AsyncClient) -> None:
    ids = await two_sites(planning, admin)
    await seed.add(
        planning.database,
        *(
            seed.meter_value("CP-A", T0 + timedelta(hours=2, seconds=s), 1000.0 * s, connector_id=2)
            for s in range(1003)
        ),
    )
    revision_ids = await store_revisions(planning, ids["b"], ids["tx_b"])
    async with AsyncClient(planning.base_url, await key(planning, Role.analyst)) as sc:
        sites = await sc.sites()
        assert list(sites.index) == [ids["a"], ids["b"]]
        assert sites.loc[ids["a"], "name"] == "A"

        transactions = await sc.transactions(site_id=ids["a"])
        assert list(transactions.index) == [ids["tx_a"]]
        assert is_utc(transactions["start_timestamp"])
        assert is_utc(transactions["stop_timestamp"])
        assert isinstance(transactions["id_tag_status"].dtype, pd.CategoricalDtype)
        assert transactions.loc[ids["tx_a"], "energy_kwh"] == 5.0

        values = await sc.meter_values(site_id=ids["a"])  # 2 + 1,003 samples: two pages
        assert len(values) == 1005
        assert isinstance(values.index, pd.DatetimeIndex)
        assert str(values.index.tz) == "UTC"
        assert values.index.is_monotonic_increasing
        assert values["id"].is_unique
        assert values["energy_kwh"].iloc[-1] == pytest.approx(1002.0)
        assert values["power_kw"].isna().all()
        assert isinstance(values["measurand"].dtype, pd.CategoricalDtype)
        assert len(await sc.meter_values(site_id=ids["a"], max_items=1001)) == 1001
        late = await sc.meter_values(site_id=ids["a"], since=pd.Timestamp("2030-03-01 10:16:40", tz="UTC"))
        assert len(late) == 3  # the samples 1,000 to 1,002 s after 10:00 UTC

        schedule = await sc.schedule(ids["b"])
        assert schedule.revision["id"] == revision_ids[-1]
        assert list(schedule.power_kw.columns) == [ids["tx_b"]]
        assert list(schedule.power_kw[ids["tx_b"]]) == [3.0, 3.0]
        assert str(schedule.intervals.index.tz) == "UTC"
        assert list(schedule.intervals["binding"]) == ["site", "site"]
        assert schedule.intervals["binds"].all()
        both_defaults = "energy:site_default,departure:site_default"
        assert schedule.sessions.loc[ids["tx_b"], "demand_source"] == both_defaults
        old = await sc.schedule(ids["b"], revision=revision_ids[0])
        assert list(old.intervals["planned_kw"]) == [7.0, 7.0]

        revisions = await sc.revisions(ids["b"], since="2030-03-01T11:30:00+01:00")
        assert list(revisions.index) == [revision_ids[-1]]
        assert is_utc(revisions["created_at"])

        load = await sc.load(ids["b"], since="2030-03-01T10:00:00Z", until="2030-03-01T11:00:00Z")
        assert list(load["planned_kw"].fillna(-1)) == [7.0, 7.0, -1, -1]
        assert load.index[0] == pd.Timestamp("2030-03-01T10:00:00Z")
        assert load["measured_kw"].dtype == "float64"

        events = await sc.compliance(ids["b"])
        assert list(events["non_compliant"]) == [False, True]
        assert is_utc(events["at"])

        with pytest.raises(NotFound) as missing:
            await sc.schedule(999)
        assert missing.value.status == 404
        assert "site 999" in str(missing.value.detail)


def grid_operator_day(url: str, token: str, site_id: int, start: pd.Timestamp) -> dict[str, Any]:
    """What a grid operator does from a notebook, blocking: post a forecast from a frame, then CSV text,
    read the effective forecast back; each refusal as an exception."""
    starts = pd.date_range(start, periods=8, freq="15min")
    frame = pd.DataFrame({"start": starts, "end": starts + pd.Timedelta("15min"), "limit_kw": 80.0})
    frame.loc[4:, "limit_kw"] = 40.0
    out: dict[str, Any] = {}
    with Client(url, token) as sc:
        out["first"] = sc.post_forecast(site_id, frame, forecast_id="day-1")
        out["replay"] = sc.post_forecast(site_id, frame, forecast_id="day-1")
        with pytest.raises(Conflict) as conflict:
            sc.post_forecast(site_id, frame.assign(limit_kw=10.0), forecast_id="day-1")
        out["conflict"] = conflict.value
        later = start + pd.Timedelta("1h")
        text = f"start,end,limit_kw\n{later.isoformat()},{(later + pd.Timedelta('1h')).isoformat()},25\n"
        out["csv"] = sc.post_forecast(site_id, text, forecast_id="day-1b")
        with pytest.raises(Invalid) as invalid:
            sc.post_forecast(site_id, frame.assign(limit_kw=-5.0))
        out["invalid"] = invalid.value
        out["effective"] = sc.effective_forecast(site_id, since=start, until=start + pd.Timedelta("2h"))
        out["forecasts"] = sc.forecasts(site_id)
        out["forecast"] = sc.forecast(site_id, out["first"]["id"])
    with Client(url, "not-a-key") as anonymous, pytest.raises(Unauthorized) as unauthorized:
        anonymous.sites()
    out["unauthorized"] = unauthorized.value
    return out


@pytest.mark.anyio
async def test_blocking_client_posts_forecasts_and_reads_errors(
    planning: Planning, admin: httpx.AsyncClient
) -> None:
    site = await make_site(admin)
    token = await key(planning, Role.grid_operator, site_ids=[site["id"]])
    start = pd.Timestamp(next_hour())
    day = await anyio.to_thread.run_sync(grid_operator_day, planning.base_url, token, site["id"], start)

    assert day["replay"]["id"] == day["first"]["id"]
    assert day["conflict"].status == 409
    assert day["invalid"].status == 422
    assert any("limit_kw" in str(e.get("loc")) for e in day["invalid"].errors), day["invalid"].errors
    assert "limit_kw" in str(day["invalid"])
    assert day["unauthorized"].status == 401
    effective = day["effective"]
    assert list(effective["limit_kw"]) == [80.0] * 4 + [25.0] * 4
    assert list(effective["forecast_id"]) == ["day-1"] * 4 + ["day-1b"] * 4
    assert effective.index[0] == start
    assert isinstance(effective["source"].dtype, pd.CategoricalDtype)
    assert effective.attrs["interval_minutes"] == 15
    assert set(day["forecasts"]["forecast_id"]) == {"day-1", "day-1b"}
    assert list(day["forecast"].resampled["limit_kw"]) == [80.0] * 4 + [40.0] * 4

    analyst = await key(planning, Role.analyst)
    async with AsyncClient(planning.base_url, analyst) as sc:
        with pytest.raises(Forbidden):
            await sc.post_forecast(site["id"], "start,end,limit_kw\n")


@pytest.mark.anyio
async def test_overrides_with_their_audit(planning: Planning, admin: httpx.AsyncClient) -> None:
    site = await make_site(admin)
    operator = await planning.client(Role.operator)
    created = await operator.post(
        "/overrides",
        json={"scope": "site", "site_id": site["id"], "kind": "cap_kw", "value": 50, "reason": "works"},
    )
    assert created.status_code == 201, created.text
    override_id = created.json()["id"]
    assert (await operator.patch(f"/overrides/{override_id}", json={"value": 40})).status_code == 200
    async with AsyncClient(planning.base_url, await key(planning, Role.analyst)) as sc:
        overrides = await sc.overrides(site_id=site["id"])
        assert list(overrides.index) == [override_id]
        assert overrides.loc[override_id, "value"] == 40
        assert overrides.loc[override_id, "status"] == "active"
        assert isinstance(overrides["kind"].dtype, pd.CategoricalDtype)
        assert is_utc(overrides["valid_from"])
        audit = await sc.override_audit(override_id)
        assert list(audit["action"]) == ["created", "updated"]
        assert is_utc(audit["at"])
        assert (await sc.overrides(site_id=site["id"], active=False)).empty
