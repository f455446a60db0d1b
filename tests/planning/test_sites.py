"""Sites and topology over HTTP: CRUD, validation, the group tree (cycles, non-empty deletes), charge points
placed in groups, the topology view, and group capacity on the planning grid."""

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import insert

from app.db.engine import Database
from app.db.store import SqlUnitOfWork
from app.db.tables.planning import profile_dispatch_table
from app.domain.planning import ScheduleRevision
from app.services.planning import capacity, groups
from tests.planning.conftest import SITE, Planning, make_site, problem

pytestmark = pytest.mark.anyio


async def test_site_crud(operator: httpx.AsyncClient, analyst: httpx.AsyncClient) -> None:
    site = await make_site(operator, default_duration_minutes=480, default_energy_kwh=20)
    assert site["timezone"] == "Europe/Amsterdam"
    assert site["default_duration_minutes"] == 480
    assert site["min_current_a"] == 6  # IEC 61851's minimum unless the site says otherwise
    got = await analyst.get(f"/sites/{site['id']}")
    assert got.json() == site

    patched = await operator.patch(
        f"/sites/{site['id']}", json={"fallback_limit_kw": 55, "interval_minutes": 5}
    )
    assert patched.status_code == 200, patched.text
    assert (patched.json()["fallback_limit_kw"], patched.json()["interval_minutes"]) == (55, 5)
    assert patched.json()["name"] == "Depot"
    assert (await operator.patch(f"/sites/{site['id']}", json={"min_current_a": 8})).json()[
        "min_current_a"
    ] == 8

    assert [s["id"] for s in (await analyst.get("/sites")).json()] == [site["id"]]
    problem(await analyst.patch(f"/sites/{site['id']}", json={"name": "x"}), 403)
    assert (await operator.delete(f"/sites/{site['id']}")).status_code == 204
    problem(await operator.get(f"/sites/{site['id']}"), 404)
    problem(await operator.delete(f"/sites/{site['id']}"), 404)


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"interval_minutes": 7}, "interval_minutes"),
        ({"interval_minutes": 90}, "interval_minutes"),
        ({"grid_connection_limit_kw": 0}, "grid_connection_limit_kw"),
        ({"fallback_limit_kw": -1}, "fallback_limit_kw"),
        ({"safety_margin_kw": -5}, "safety_margin_kw"),
        ({"min_current_a": -1}, "min_current_a"),
        ({"default_energy_kwh": 0}, "default_energy_kwh"),
        ({"name": ""}, "name"),
    ],
)
async def test_site_validation(operator: httpx.AsyncClient, values: dict[str, object], field: str) -> None:
    body = problem(await operator.post("/sites", json={**SITE, **values}), 422)
    assert f"body.{field}" in body["detail"]


async def test_site_name_is_unique_and_patch_rejects_null(operator: httpx.AsyncClient) -> None:
    site = await make_site(operator)
    problem(await operator.post("/sites", json=SITE), 409)
    other = await make_site(operator, name="Other")
    problem(await operator.patch(f"/sites/{other['id']}", json={"name": "Depot"}), 409)
    problem(await operator.patch(f"/sites/{site['id']}", json={"timezone": None}), 422)
    cleared = await operator.patch(f"/sites/{site['id']}", json={"default_energy_kwh": None})
    assert cleared.json()["default_energy_kwh"] is None


async def test_group_tree_cycles_and_non_empty_deletes(
    planning: Planning, operator: httpx.AsyncClient
) -> None:
    site = await make_site(operator)
    base = f"/sites/{site['id']}/groups"
    root = (await operator.post(base, json={"name": "main", "capacity_kw": 300})).json()
    feeder = await operator.post(base, json={"name": "feeder A", "parent_id": root["id"], "capacity_kw": 120})
    assert feeder.status_code == 201, feeder.text
    leaf = (await operator.post(base, json={"name": "bay 1", "parent_id": feeder.json()["id"]})).json()

    # a cycle: root under its grandchild
    body = problem(await operator.patch(f"{base}/{root['id']}", json={"parent_id": leaf["id"]}), 409)
    assert "cycle" in body["detail"]
    problem(await operator.patch(f"{base}/{root['id']}", json={"parent_id": root["id"]}), 409)
    problem(await operator.post(base, json={"name": "main"}), 409)
    problem(await operator.post(base, json={"name": "x", "parent_id": 9999}), 404)
    both = await operator.post(
        base, json={"name": "x", "capacity_kw": 1, "capacity_profile": [{"start": "00:00", "capacity_kw": 1}]}
    )
    problem(both, 422)

    # another site's group is not a parent here
    other = await make_site(operator, name="Other")
    foreign = (await operator.post(f"/sites/{other['id']}/groups", json={"name": "f"})).json()
    problem(await operator.post(base, json={"name": "y", "parent_id": foreign["id"]}), 404)
    problem(await operator.get(f"{base}/{foreign['id']}"), 404)

    await planning.charge_point("CP1")
    placed = await operator.put(f"/sites/{site['id']}/charge-points/CP1", json={"group_id": leaf["id"]})
    assert placed.json() == {
        "charge_point_id": "CP1",
        "site_id": site["id"],
        "group_id": leaf["id"],
        "connected": False,
    }
    assert (await operator.get(f"{base}/{leaf['id']}")).json()["charge_point_ids"] == ["CP1"]

    problem(await operator.delete(f"{base}/{feeder.json()['id']}"), 409)  # has a child
    problem(await operator.delete(f"{base}/{leaf['id']}"), 409)  # has a charge point
    problem(await operator.delete(f"/sites/{site['id']}"), 409)  # has groups
    assert (await operator.delete(f"/sites/{site['id']}/charge-points/CP1")).status_code == 204
    for group in (leaf, feeder.json(), root):
        assert (await operator.delete(f"{base}/{group['id']}")).status_code == 204
    assert (await operator.delete(f"/sites/{site['id']}")).status_code == 204


async def test_charge_points_in_a_site_and_the_topology(
    planning: Planning, operator: httpx.AsyncClient
) -> None:
    site = await make_site(operator)
    group = (
        await operator.post(f"/sites/{site['id']}/groups", json={"name": "feeder", "capacity_kw": 50})
    ).json()
    await planning.charge_point("CP1")
    await planning.charge_point("CP2", connectors=1)
    await operator.put(f"/sites/{site['id']}/charge-points/CP1", json={"group_id": group["id"]})
    await operator.put(f"/sites/{site['id']}/charge-points/CP2", json={})
    problem(await operator.put(f"/sites/{site['id']}/charge-points/NOPE", json={}), 404)
    problem(await operator.put(f"/sites/{site['id']}/charge-points/CP2", json={"group_id": 999}), 404)

    listed = (await operator.get(f"/sites/{site['id']}/charge-points")).json()
    assert [(c["charge_point_id"], c["group_id"]) for c in listed] == [("CP1", group["id"]), ("CP2", None)]
    in_group = (
        await operator.get(f"/sites/{site['id']}/charge-points", params={"group_id": group["id"]})
    ).json()
    assert [c["charge_point_id"] for c in in_group] == ["CP1"]

    topology = (await operator.get(f"/sites/{site['id']}/topology")).json()
    assert topology["site"]["id"] == site["id"]
    [feeder] = topology["groups"]
    assert feeder["capacity_kw"] == 50
    [cp1] = feeder["charge_points"]
    assert [c["connector_id"] for c in cp1["connectors"]] == [1, 2]  # connector 0 is the charge point itself
    assert cp1["connectors"][0]["max_kw"] == pytest.approx(3 * 230 * 32 / 1000)
    assert [cp["id"] for cp in topology["charge_points"]] == ["CP2"]

    problem(await operator.delete(f"/sites/{site['id']}/charge-points/NOPE"), 404)


async def test_group_capacity_profile_in_local_time(operator: httpx.AsyncClient, database: Database) -> None:
    site = await make_site(operator, interval_minutes=60)  # Europe/Amsterdam: UTC+1 in January
    profile = [
        {"start": "07:00", "capacity_kw": 80},
        {"start": "17:30", "capacity_kw": 40},
        {"start": "22:00", "capacity_kw": 100},
    ]
    created = await operator.post(
        f"/sites/{site['id']}/groups", json={"name": "evening peak", "capacity_profile": profile}
    )
    assert created.status_code == 201, created.text
    assert created.json()["capacity_profile"][1] == {"start": "17:30:00", "capacity_kw": 40}
    group_url = f"/sites/{site['id']}/groups/{created.json()['id']}"
    constant = (await operator.patch(group_url, json={"capacity_kw": 60})).json()
    assert (constant["capacity_kw"], constant["capacity_profile"]) == (60, None)
    back = (await operator.patch(group_url, json={"capacity_profile": profile})).json()
    assert (back["capacity_kw"], len(back["capacity_profile"])) == (None, 3)
    bad = [{"start": "10:00", "capacity_kw": 1}, {"start": "09:00", "capacity_kw": 2}]
    problem(
        await operator.post(f"/sites/{site['id']}/groups", json={"name": "bad", "capacity_profile": bad}), 422
    )

    start = datetime(2030, 1, 10, 15, tzinfo=UTC)  # 16:00 local
    async with database.session() as session:
        capacities = await groups.group_capacities(SqlUnitOfWork(session), site["id"], start, 7)
    # 16-17 local: 80; 17-18: 40 from 17:30, so the minimum; 18-22: 40; 22-23: 100
    assert capacities[created.json()["id"]] == [80, 40, 40, 40, 40, 40, 100]


def test_profile_before_the_first_step_holds_the_last_one() -> None:
    profile = [{"start": "06:00", "capacity_kw": 10}, {"start": "18:00", "capacity_kw": 20}]
    start = datetime(2030, 6, 1, 3, tzinfo=UTC)  # 03:00 UTC = 03:00 local in UTC
    assert capacity.profile_capacity(profile, "UTC", start, 4, 60) == [20, 20, 20, 10]


def test_interval_grid_aligns_to_the_utc_epoch() -> None:
    t = datetime(2030, 1, 1, 10, 7, 30, tzinfo=UTC)
    assert capacity.floor_to_interval(t, 15) == datetime(2030, 1, 1, 10, 0, tzinfo=UTC)
    assert capacity.ceil_to_interval(t, 15) == datetime(2030, 1, 1, 10, 15, tzinfo=UTC)
    aligned = datetime(2030, 1, 1, 10, 15, tzinfo=UTC)
    assert capacity.ceil_to_interval(aligned, 15) == aligned
    assert capacity.interval_starts(aligned, 2, 30)[1] == aligned + timedelta(minutes=30)


async def test_a_site_still_referenced_is_not_deleted(
    operator: httpx.AsyncClient, database: Database
) -> None:
    site = await make_site(operator)
    async with database.session() as session:
        revision = ScheduleRevision(
            site_id=site["id"],
            trigger="test",
            status="optimal",
            strategy="lp",
            solve_seconds=0.0,
            start=datetime(2030, 1, 1, tzinfo=UTC),
            interval_minutes=15,
            n_intervals=0,
            capacity_kw=[],
            planned_kw=[],
            binding=[],
            shadow_price=[],
            relaxations=[],
            messages=[],
        )
        session.add(revision)
        await session.flush()
        await session.exec(
            insert(profile_dispatch_table).values(
                revision_id=revision.id,
                charge_point_id="CP1",
                connector_id=1,
                purpose="tx",
                status="accepted",
                attempt=1,
                created_at=datetime(2030, 1, 1, tzinfo=UTC),
            )
        )
    body = problem(await operator.delete(f"/sites/{site['id']}"), 409)
    assert "still referenced" in body["detail"]
    assert (await operator.get(f"/sites/{site['id']}")).status_code == 200
