"""Charge points placed in sites and groups; a grid operator's key with site_ids sees only those sites."""

from datetime import UTC, datetime

import httpx
import pytest

from app.db.planning_tables import Site, SiteGroup
from app.domain.enums import Role
from tests.api import seed
from tests.api.conftest import Api, problem

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


async def two_sites(api: Api) -> tuple[int, int, int]:
    north, south = await seed.add(
        api.database,
        Site(name="north", timezone="Europe/Berlin", grid_connection_limit_kw=100, fallback_limit_kw=50),
        Site(name="south", timezone="Europe/Berlin", grid_connection_limit_kw=100, fallback_limit_kw=50),
    )
    (feeder,) = await seed.add(api.database, SiteGroup(site_id=north.id, name="feeder 1"))
    return north.id, south.id, feeder.id


@pytest.mark.anyio
async def test_place_charge_points(api: Api, operator: httpx.AsyncClient) -> None:
    north, south, feeder = await two_sites(api)
    created = await operator.post("/charge-points", json={"id": "CP1", "site_id": north, "group_id": feeder})
    assert (created.json()["site_id"], created.json()["group_id"]) == (north, feeder)
    body = problem(
        await operator.post("/charge-points", json={"id": "CP2", "site_id": south, "group_id": feeder}), 422
    )
    assert body["errors"][0]["loc"] == ["body", "group_id"]
    problem(await operator.post("/charge-points", json={"id": "CP2", "group_id": 999}), 422)
    moved = (await operator.patch("/charge-points/CP1", json={"site_id": south})).json()
    assert (moved["site_id"], moved["group_id"]) == (south, None)
    problem(await operator.patch("/charge-points/CP1", json={"group_id": feeder}), 422)
    back = (await operator.patch("/charge-points/CP1", json={"site_id": north, "group_id": feeder})).json()
    assert (back["site_id"], back["group_id"]) == (north, feeder)
    kept = (await operator.patch("/charge-points/CP1", json={"description": "bay"})).json()
    assert (kept["site_id"], kept["group_id"]) == (north, feeder)
    out = (await operator.patch("/charge-points/CP1", json={"site_id": None})).json()
    assert (out["site_id"], out["group_id"]) == (None, None)


@pytest.mark.anyio
async def test_grid_operator_sees_its_sites_only(api: Api, operator: httpx.AsyncClient) -> None:
    north, south, _ = await two_sites(api)
    await operator.post("/charge-points", json={"id": "N1", "site_id": north})
    await operator.post("/charge-points", json={"id": "S1", "site_id": south})
    await operator.post("/charge-points", json={"id": "LOOSE"})
    mine = await seed.transaction(api.database, "N1", T0)
    theirs = await seed.transaction(api.database, "S1", T0)
    await seed.add(
        api.database,
        seed.meter_value("N1", T0, 100, transaction_id=mine.id),
        seed.meter_value("S1", T0, 100, transaction_id=theirs.id),
    )
    api.commands.connected.update({"N1", "S1"})
    grid = await api.client(Role.grid_operator, site_ids=[north])
    assert [cp["id"] for cp in (await grid.get("/charge-points")).json()["items"]] == ["N1"]
    problem(await grid.get("/charge-points/S1"), 404)
    problem(await grid.get("/charge-points/S1/status-history"), 404)
    assert [t["id"] for t in (await grid.get("/transactions")).json()["items"]] == [mine.id]
    problem(await grid.get(f"/transactions/{theirs.id}"), 404)
    assert [v["charge_point_id"] for v in (await grid.get("/meter-values")).json()["items"]] == ["N1"]
    assert len((await grid.get("/transactions.csv")).text.strip().splitlines()) == 2
    status = (await grid.get("/status")).json()
    assert (status["charge_points"], status["connected_charge_points"], status["active_transactions"]) == (
        1,
        1,
        1,
    )
    unscoped = await api.client(Role.grid_operator)
    assert (await unscoped.get("/charge-points")).json()["total"] == 3
    south_only = (await unscoped.get("/charge-points", params={"site_id": south})).json()
    assert [cp["id"] for cp in south_only["items"]] == ["S1"]
