"""A grid operator's key with site_ids sees only the charge points (and their data) of those sites."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert

from app.db.tables.planning import schedule_entry_table
from app.domain.enums import Role
from app.domain.ocpp import Command, Reservation, Transaction
from app.domain.planning import ScheduleRevision, Site, SiteGroup
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


def revision_of(site_id: int) -> ScheduleRevision:
    return ScheduleRevision(
        site_id=site_id,
        trigger="test",
        status="optimal",
        strategy="lp",
        solve_seconds=0.0,
        start=T0,
        interval_minutes=15,
        n_intervals=1,
        capacity_kw=[11.0],
        planned_kw=[7.0],
        binding=[""],
        shadow_price=[0.0],
        relaxations=[],
        messages=[],
    )


async def add_entry(api: Api, revision: ScheduleRevision, transaction: Transaction) -> None:
    assert revision.id is not None
    assert transaction.id is not None
    entry = {
        "revision_id": revision.id,
        "transaction_id": transaction.id,
        "charge_point_id": transaction.charge_point_id,
        "connector_id": 1,
        "power_kw": [7.0],
        "max_kw": 11.0,
        "energy_kwh": 1.75,
        "delivered_kwh": 0.0,
        "unmet_kwh": 0.0,
        "departure": T0 + timedelta(hours=8),
        "demand_source": "default",
        "assumption": "planned",
    }
    async with api.database.session() as session:
        await session.exec(insert(schedule_entry_table).values(**entry))


@pytest.mark.anyio
async def test_a_grid_operator_reads_the_schedules_of_its_sites_only(api: Api) -> None:
    north, south, _ = await two_sites(api)
    await seed.charge_point(api.database, "N1", site_id=north)
    await seed.charge_point(api.database, "S1", site_id=south)
    await seed.charge_point(api.database, "LOOSE")
    mine = await seed.transaction(api.database, "N1", T0)
    theirs = await seed.transaction(api.database, "S1", T0)
    unplanned = await seed.transaction(api.database, "LOOSE", T0)
    north_plan, south_plan = await seed.add(api.database, revision_of(north), revision_of(south))
    await add_entry(api, north_plan, mine)
    await add_entry(api, south_plan, theirs)

    grid = await api.client(Role.grid_operator, site_ids=[north])
    assert (await grid.get(f"/transactions/{mine.id}/schedule")).json()["entry"]["power_kw"] == [7.0]
    for hidden in (theirs.id, unplanned.id, 10_000):
        assert problem(await grid.get(f"/transactions/{hidden}/schedule"), 404)["detail"] == (
            f"transaction {hidden} not found"
        )
    operator = await api.client(Role.operator)
    assert (await operator.get(f"/transactions/{theirs.id}/schedule")).status_code == 200
    assert (
        "not been scheduled"
        in problem(await operator.get(f"/transactions/{unplanned.id}/schedule"), 404)["detail"]
    )


@pytest.mark.anyio
@pytest.mark.parametrize("site_ids", [None, "north"])
async def test_drivers_id_tags_are_not_grid_operator_data(api: Api, site_ids: str | None) -> None:
    north, _, _ = await two_sites(api)
    await seed.charge_point(api.database, "N1", site_id=north)
    stopped = await seed.transaction(api.database, "N1", T0, stop=T0 + timedelta(hours=1), meter_stop_wh=9000)
    await seed.add(
        api.database,
        Reservation(charge_point_id="N1", connector_id=1, id_tag="DRIVER1", expiry_date=T0),
        Command(charge_point_id="N1", action="RemoteStartTransaction", payload={"idTag": "DRIVER1"}),
    )
    operator = await api.client(Role.operator)
    assert (await operator.post("/id-tags", json={"id_tag": "DRIVER1"})).status_code == 201
    grid = await api.client(Role.grid_operator, site_ids=[north] if site_ids else None)

    for path in (
        "/id-tags",
        "/id-tags/DRIVER1",
        "/reservations",
        "/reservations/1",
        "/commands",
        "/commands/1",
    ):
        assert "grid_operator" in problem(await grid.get(path), 403)["detail"], path
        assert (await operator.get(path)).status_code == 200, path
    problem(await grid.get("/transactions", params={"id_tag": "TAG1"}), 403)

    listed = (await grid.get("/transactions")).json()["items"]
    detail = (await grid.get(f"/transactions/{stopped.id}")).json()
    assert [(t["id"], t["id_tag"], t["stop_id_tag"]) for t in listed] == [(stopped.id, None, None)]
    assert (detail["id_tag"], detail["energy_wh"]) == (None, 8000)
    csv = (await grid.get("/transactions.csv")).text
    assert "TAG1" not in csv
    assert len(csv.strip().splitlines()) == 2
    assert (await operator.get(f"/transactions/{stopped.id}")).json()["id_tag"] == "TAG1"
    assert (await grid.get("/status")).json()["id_tags"] is None
    assert (await operator.get("/status")).json()["id_tags"] == 1
