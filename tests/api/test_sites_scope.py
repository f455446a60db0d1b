"""A grid operator's key with site_ids sees only the charge points (and their data) of those sites."""

from datetime import UTC, datetime

import pytest

from app.domain.enums import Role
from app.domain.planning import Site, SiteGroup
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
async def test_grid_operator_sees_its_sites_only(api: Api) -> None:
    north, south, _ = await two_sites(api)
    await seed.charge_point(api.database, "N1", site_id=north)
    await seed.charge_point(api.database, "S1", site_id=south)
    await seed.charge_point(api.database, "LOOSE")
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
