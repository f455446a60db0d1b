"""Session demand over HTTP: set → site defaults → the tag's past sessions → unknown, and which applied."""

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from app.db.engine import Database
from app.db.store import SqlUnitOfWork
from app.domain.enums import Role
from app.services.planning import demand
from tests.planning.conftest import Planning, iso, make_site, problem

pytestmark = pytest.mark.anyio


async def history(planning: Planning, tag: str, sessions: list[tuple[float, int]]) -> None:
    """Completed sessions of `tag`: (hours plugged in, Wh charged), the most recent last."""
    start = datetime.now(UTC) - timedelta(days=len(sessions) + 1)
    for i, (hours, wh) in enumerate(sessions):
        begun = start + timedelta(days=i)
        await planning.transaction("CP1", tag, begun, stop=begun + timedelta(hours=hours), energy_wh=wh)


async def test_sources_in_order(
    planning: Planning, operator: httpx.AsyncClient, analyst: httpx.AsyncClient
) -> None:
    site = await make_site(operator)
    await planning.charge_point("CP1")
    started = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)
    tx = await planning.transaction("CP1", "TAG1", started)
    url = f"/transactions/{tx}/demand"

    unknown = (await analyst.get(url)).json()
    assert (unknown["departure_source"], unknown["energy_source"]) == ("unknown", "unknown")
    assert (unknown["departure"], unknown["energy_kwh"], unknown["site_id"]) == (None, None, None)

    # the tag's history: median of the last sessions (two are too few for an estimate)
    await history(planning, "TAG1", [(2, 10_000), (4, 30_000)])
    assert (await analyst.get(url)).json()["energy_source"] == "unknown"
    await history(planning, "TAG1", [(3, 20_000)])
    estimated = (await analyst.get(url)).json()
    assert (estimated["departure_source"], estimated["energy_source"]) == ("tag_history", "tag_history")
    assert estimated["energy_kwh"] == 20
    assert estimated["history_sessions"] == 3
    assert datetime.fromisoformat(estimated["departure"]) == started + timedelta(hours=3)

    # the site's defaults come before the estimate
    await operator.put(f"/sites/{site['id']}/charge-points/CP1", json={})
    await operator.patch(f"/sites/{site['id']}", json={"default_energy_kwh": 15})
    defaults = (await analyst.get(url)).json()
    assert (defaults["energy_kwh"], defaults["energy_source"]) == (15, "site_default")
    assert defaults["departure_source"] == "tag_history"
    await operator.patch(f"/sites/{site['id']}", json={"default_duration_minutes": 600})
    defaults = (await analyst.get(url)).json()
    assert defaults["departure_source"] == "site_default"
    assert datetime.fromisoformat(defaults["departure"]) == started + timedelta(hours=10)

    # what is set comes first; what is left out falls back
    departure = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=5)
    response = await operator.put(url, json={"departure": iso(departure)})
    assert response.status_code == 200, response.text
    set_ = response.json()
    assert (set_["departure_source"], set_["energy_source"]) == ("api", "site_default")
    assert datetime.fromisoformat(set_["departure"]) == departure
    assert set_["set_by"] == "operator alice"
    set_ = (await operator.put(url, json={"energy_kwh": 42.5})).json()
    assert (set_["departure_source"], set_["energy_source"], set_["energy_kwh"]) == (
        "site_default",
        "api",
        42.5,
    )

    minimum = (await operator.put(url, json={"min_current_a": 8})).json()
    assert (minimum["min_current_a"], minimum["energy_source"]) == (8, "site_default")

    assert (await operator.delete(url)).status_code == 204
    assert (await analyst.get(url)).json()["energy_source"] == "site_default"
    assert (await analyst.get(url)).json()["min_current_a"] is None


async def test_set_validation(planning: Planning, operator: httpx.AsyncClient) -> None:
    await planning.charge_point("CP1")
    now = datetime.now(UTC)
    tx = await planning.transaction("CP1", "TAG", now - timedelta(hours=1))
    stopped = await planning.transaction(
        "CP1", "TAG", now - timedelta(hours=5), stop=now - timedelta(hours=4), energy_wh=1
    )
    url = f"/transactions/{tx}/demand"
    assert "at least one" in problem(await operator.put(url, json={}), 422)["detail"]
    assert "body.energy_kwh" in problem(await operator.put(url, json={"energy_kwh": 0}), 422)["detail"]
    past = await operator.put(url, json={"departure": iso(now - timedelta(minutes=1))})
    assert "departure: must be in the future" in problem(past, 422)["detail"]
    naive = await operator.put(url, json={"departure": "2030-01-01T10:00:00"})
    assert "body.departure" in problem(naive, 422)["detail"]
    problem(await operator.put(f"/transactions/{stopped}/demand", json={"energy_kwh": 5}), 409)
    problem(await operator.put("/transactions/999/demand", json={"energy_kwh": 5}), 404)
    problem(await operator.get("/transactions/999/demand"), 404)
    grid = await planning.client(Role.grid_operator)
    problem(await grid.get(url), 403)


async def test_bulk_demand_for_the_scheduler(planning: Planning, database: Database) -> None:
    await planning.charge_point("CP1")
    now = datetime.now(UTC)
    first = await planning.transaction("CP1", "A", now - timedelta(hours=1))
    second = await planning.transaction("CP1", "B", now - timedelta(hours=2), connector_id=2)
    async with database.session() as session:
        await demand.set_demand(
            SqlUnitOfWork(session), first, departure=None, energy_kwh=12, now=now, author="app"
        )
    async with database.session() as session:
        got = await demand.effective_demands(SqlUnitOfWork(session), [first, second, 999])
    assert set(got) == {first, second}
    assert (got[first].energy_kwh, got[first].energy_source) == (12, demand.DemandSource.api)
    assert got[second].energy_source is demand.DemandSource.unknown
    assert got[second].connector_id == 2


async def test_the_estimate_looks_at_the_last_sessions_only(
    planning: Planning, analyst: httpx.AsyncClient
) -> None:
    await planning.charge_point("CP1")
    # twelve sessions: the two oldest are huge, the last ten charge 5 to 14 kWh in 1 to 10 hours
    await history(planning, "FLEET", [(20, 900_000)] * 2 + [(h, 4_000 + 1_000 * h) for h in range(1, 11)])
    started = datetime.now(UTC).replace(microsecond=0)
    tx = await planning.transaction("CP1", "FLEET", started)
    got = (await analyst.get(f"/transactions/{tx}/demand")).json()
    assert got["history_sessions"] == demand.HISTORY_SESSIONS == 10
    assert got["energy_kwh"] == 9.5  # median of 5..14 kWh
    assert datetime.fromisoformat(got["departure"]) == started + timedelta(hours=5.5)
