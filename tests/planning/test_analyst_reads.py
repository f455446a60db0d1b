"""What analysts read: lists filtered by site and time, CSV of the load and of any revision, paging
past one page of 1,000; over real HTTP on each database."""

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from app.db.store import SqlUnitOfWork
from app.domain.enums import Role
from app.domain.planning import ComplianceEvent, ScheduleEntry, ScheduleRevision
from tests.api import seed
from tests.planning.conftest import Planning, make_site, problem

T0 = datetime(2030, 3, 1, 8, 0, tzinfo=UTC)


def rows_of(response: httpx.Response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.text)))


async def two_sites(planning: Planning, admin: httpx.AsyncClient) -> dict[str, Any]:
    """Site A holds CP-A (a session 08:00–09:00, two samples); site B holds CP-B (one session, one sample)."""
    a, b = await make_site(admin, name="A"), await make_site(admin, name="B")
    await planning.charge_point("CP-A", site_id=a["id"])
    await planning.charge_point("CP-B", site_id=b["id"])
    tx_a = await planning.transaction("CP-A", "TAG1", T0, stop=T0 + timedelta(hours=1), energy_wh=5000)
    tx_b = await planning.transaction("CP-B", "TAG2", T0 + timedelta(hours=3))
    await seed.add(
        planning.database,
        seed.meter_value("CP-A", T0 + timedelta(minutes=15), 2000, transaction_id=tx_a),
        seed.meter_value("CP-A", T0 + timedelta(minutes=45), 5000, transaction_id=tx_a),
        seed.meter_value("CP-B", T0 + timedelta(hours=3, minutes=15), 800, transaction_id=tx_b),
    )
    return {"a": a["id"], "b": b["id"], "tx_a": tx_a, "tx_b": tx_b}


@pytest.mark.anyio
async def test_transactions_and_meter_values_by_site(planning: Planning, admin: httpx.AsyncClient) -> None:
    ids = await two_sites(planning, admin)
    analyst = await planning.client(Role.analyst)
    page = (await analyst.get("/transactions", params={"site_id": ids["a"]})).json()
    assert [t["id"] for t in page["items"]] == [ids["tx_a"]]
    assert page["total"] == 1
    rows = rows_of(await analyst.get("/transactions.csv", params={"site_id": ids["b"]}))
    assert [int(r["id"]) for r in rows] == [ids["tx_b"]]

    values = (await analyst.get("/meter-values", params={"site_id": ids["a"]})).json()
    assert [v["charge_point_id"] for v in values["items"]] == ["CP-A", "CP-A"]
    rows = rows_of(await analyst.get("/meter-values.csv", params={"site_id": ids["b"]}))
    assert [r["charge_point_id"] for r in rows] == ["CP-B"]

    # with a time range given with an offset: 09:30+01:00 is 08:30 UTC
    values = (
        await analyst.get("/meter-values", params={"site_id": ids["a"], "from": "2030-03-01T09:30:00+01:00"})
    ).json()
    assert [v["timestamp"] for v in values["items"]] == ["2030-03-01T08:45:00Z"]


@pytest.mark.anyio
async def test_site_filter_refuses_a_site_the_caller_cannot_see(
    planning: Planning, admin: httpx.AsyncClient
) -> None:
    ids = await two_sites(planning, admin)
    analyst = await planning.client(Role.analyst)
    body = problem(await analyst.get("/transactions", params={"site_id": 999}), 404)
    assert "site 999" in body["detail"]
    problem(await analyst.get("/meter-values.csv", params={"site_id": 999}), 404)
    problem(await analyst.get("/transactions", params={"site_id": 0}), 422)
    grid = await planning.client(Role.grid_operator, site_ids=[ids["a"]])
    problem(await grid.get("/transactions", params={"site_id": ids["b"]}), 404)
    page = (await grid.get("/transactions", params={"site_id": ids["a"]})).json()
    assert [t["id"] for t in page["items"]] == [ids["tx_a"]]


def revision(site_id: int, created_at: datetime, planned_kw: list[float], trigger: str) -> ScheduleRevision:
    n = len(planned_kw)
    return ScheduleRevision(
        site_id=site_id,
        created_at=created_at,
        trigger=trigger,
        status="optimal",
        strategy="lp",
        solve_seconds=0.01,
        start=created_at,
        interval_minutes=15,
        n_intervals=n,
        capacity_kw=[50.0] * n,
        planned_kw=planned_kw,
        binding=["site"] * n,
        shadow_price=[0.5] * n,
        relaxations=[],
        messages=[],
    )


def entry(transaction_id: int, power_kw: list[float]) -> ScheduleEntry:
    return ScheduleEntry(
        revision_id=0,
        transaction_id=transaction_id,
        charge_point_id="CP-B",
        connector_id=1,
        power_kw=power_kw,
        max_kw=11.0,
        energy_kwh=10.0,
        delivered_kwh=sum(power_kw) / 4,
        unmet_kwh=0.0,
        departure=T0 + timedelta(hours=8),
        demand_source="energy:site_default,departure:site_default",  # the longest the planner writes
        assumption="planned",
    )


async def store_revisions(planning: Planning, site_id: int, transaction_id: int) -> list[int]:
    """Two revisions, as the scheduler stores them: at 10:00 (7 kW) and 11:00 (3 kW)."""
    ids = []
    async with planning.database.session() as session:
        uow = SqlUnitOfWork(session)
        for hour, kw in ((10, 7.0), (11, 3.0)):
            at = T0.replace(hour=hour)
            ids.append(
                await uow.plans.add_revision(
                    revision(site_id, at, [kw, kw], f"at {hour}"), [entry(transaction_id, [kw, kw])]
                )
            )
        for hour in (10, 12):
            await uow.schedules.record_compliance(
                ComplianceEvent(
                    transaction_id=transaction_id,
                    site_id=site_id,
                    charge_point_id="CP-B",
                    connector_id=1,
                    non_compliant=hour == 10,
                    reason="over_draw",
                    limit_kw=3.0,
                    measured_kw=7.0,
                    at=T0.replace(hour=hour),
                )
            )
    return ids


@pytest.mark.anyio
async def test_any_revision_as_csv_and_revisions_by_time(
    planning: Planning, admin: httpx.AsyncClient
) -> None:
    ids = await two_sites(planning, admin)
    first, second = await store_revisions(planning, ids["b"], ids["tx_b"])
    analyst = await planning.client(Role.analyst)
    site = ids["b"]

    latest = rows_of(await analyst.get(f"/sites/{site}/schedule.csv"))
    assert {(r["revision_id"], r["power_kw"]) for r in latest} == {(str(second), "3.0")}
    response = await analyst.get(f"/sites/{site}/schedule.csv", params={"revision": first})
    old = rows_of(response)
    assert [(r["revision_id"], r["power_kw"], r["start"]) for r in old] == [
        (str(first), "7.0", "2030-03-01T10:00:00+00:00"),
        (str(first), "7.0", "2030-03-01T10:15:00+00:00"),
    ]
    assert f"schedule-{first}.csv" in response.headers["content-disposition"]
    as_json = (await analyst.get(f"/sites/{site}/schedule", params={"revision": first})).json()
    assert as_json["revision"]["id"] == first
    problem(await analyst.get(f"/sites/{site}/schedule.csv", params={"revision": second + 100}), 404)
    problem(await analyst.get(f"/sites/{ids['a']}/schedule.csv", params={"revision": first}), 404)

    later = (
        await analyst.get(f"/sites/{site}/schedule/revisions", params={"from": "2030-03-01T10:30:00Z"})
    ).json()
    assert [r["id"] for r in later["items"]] == [second]
    earlier = (
        await analyst.get(f"/sites/{site}/schedule/revisions", params={"to": "2030-03-01T11:00:00Z"})
    ).json()
    assert [r["id"] for r in earlier["items"]] == [first]
    assert earlier["total"] == 1
    problem(
        await analyst.get(
            f"/sites/{site}/schedule/revisions",
            params={"from": "2030-03-01T11:00:00Z", "to": "2030-03-01T10:00:00Z"},
        ),
        422,
    )
    events = (await analyst.get(f"/sites/{site}/compliance", params={"from": "2030-03-01T11:00:00Z"})).json()
    assert [(e["non_compliant"], e["at"]) for e in events["items"]] == [(False, "2030-03-01T12:00:00Z")]


@pytest.mark.anyio
async def test_site_load_as_csv_matches_the_json(planning: Planning, admin: httpx.AsyncClient) -> None:
    ids = await two_sites(planning, admin)
    await store_revisions(planning, ids["b"], ids["tx_b"])
    analyst = await planning.client(Role.analyst)
    window = {"from": "2030-03-01T11:00:00+01:00", "to": "2030-03-01T12:00:00+01:00"}  # 10:00–11:00 UTC
    as_json = (await analyst.get(f"/sites/{ids['b']}/load", params=window)).json()
    response = await analyst.get(f"/sites/{ids['b']}/load.csv", params=window)
    rows = rows_of(response)
    assert f"site-{ids['b']}-load.csv" in response.headers["content-disposition"]
    assert len(rows) == len(as_json) == 4
    assert list(rows[0]) == ["start", "end", "limit_kw", "capacity_kw", "planned_kw", "measured_kw"]
    assert [r["planned_kw"] for r in rows] == ["7.0", "7.0", "", ""]
    assert [datetime.fromisoformat(r["start"]) for r in rows] == [
        datetime.fromisoformat(i["start"]) for i in as_json
    ]
    assert [float(r["limit_kw"]) for r in rows] == [i["limit_kw"] for i in as_json]
    problem(await analyst.get("/sites/999/load.csv"), 404)
    problem(await analyst.get(f"/sites/{ids['b']}/load.csv", params={"from": "yesterday"}), 422)


@pytest.mark.anyio
async def test_paging_past_one_thousand(planning: Planning, admin: httpx.AsyncClient) -> None:
    ids = await two_sites(planning, admin)
    await seed.add(
        planning.database,
        *(
            seed.meter_value("CP-A", T0 + timedelta(hours=2, seconds=s), float(s), connector_id=2)
            for s in range(1005)
        ),
    )
    analyst = await planning.client(Role.analyst)
    query = {"site_id": ids["a"], "connector_id": 2, "limit": 1000}
    first = (await analyst.get("/meter-values", params=query)).json()
    second = (await analyst.get("/meter-values", params={**query, "offset": 1000})).json()
    assert first["total"] == second["total"] == 1005
    assert len(first["items"]) == 1000
    assert len(second["items"]) == 5
    seen = [v["id"] for v in first["items"] + second["items"]]
    assert len(set(seen)) == 1005
    assert second["items"][-1]["value"] == "1004.0"
    problem(await analyst.get("/meter-values", params={**query, "limit": 1001}), 422)
