"""Overrides over HTTP: lifecycle, audit, expiry by time, validation, and what the scheduler reads."""

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from app.db.engine import Database
from app.db.store import SqlUnitOfWork
from app.domain.enums import Role
from app.domain.events import OverrideChanged
from app.services.planning import overrides
from tests.planning.conftest import Planning, iso, make_site, problem

pytestmark = pytest.mark.anyio


def window(from_h: float, until_h: float | None) -> dict[str, Any]:
    now = datetime.now(UTC)
    out: dict[str, Any] = {"valid_from": iso(now + timedelta(hours=from_h))}
    if until_h is not None:
        out["valid_until"] = iso(now + timedelta(hours=until_h))
    return out


async def test_lifecycle_with_audit(
    planning: Planning, operator: httpx.AsyncClient, analyst: httpx.AsyncClient
) -> None:
    site = await make_site(operator)
    seen: list[OverrideChanged] = []
    unsubscribe = planning.bus.subscribe(
        lambda event: seen.append(event) if isinstance(event, OverrideChanged) else None
    )
    try:
        body = {
            "scope": "site",
            "site_id": site["id"],
            "kind": "cap_kw",
            "value": 50,
            "reason": "transformer hot",
        }
        created = await operator.post("/overrides", json={**body, **window(-1, 2)})
        assert created.status_code == 201, created.text
        override = created.json()
        assert override["author"] == "operator alice"
        assert override["status"] == "active"
        assert created.headers["location"] == f"/api/v1/overrides/{override['id']}"

        active = (await analyst.get("/overrides", params={"active": "true"})).json()
        assert [o["id"] for o in active["items"]] == [override["id"]]
        problem(await analyst.delete(f"/overrides/{override['id']}"), 403)

        changed = await operator.patch(
            f"/overrides/{override['id']}", json={"value": 40, "valid_until": None}
        )
        assert changed.status_code == 200, changed.text
        assert (changed.json()["value"], changed.json()["valid_until"]) == (40, None)
        problem(await operator.patch(f"/overrides/{override['id']}", json={"value": -1}), 422)
        problem(await operator.patch(f"/overrides/{override['id']}", json={"reason": None}), 422)
        too_early = {"valid_until": iso(datetime.now(UTC) - timedelta(hours=2))}
        problem(await operator.patch(f"/overrides/{override['id']}", json=too_early), 422)

        assert (await operator.delete(f"/overrides/{override['id']}")).status_code == 204
        assert (await operator.delete(f"/overrides/{override['id']}")).status_code == 204  # no change
        gone = (await analyst.get(f"/overrides/{override['id']}")).json()
        assert (gone["status"], gone["deleted_by"]) == ("deleted", "operator alice")
        assert (await analyst.get("/overrides", params={"active": "true"})).json()["total"] == 0
        assert (await analyst.get("/overrides")).json()["total"] == 0
        assert (await analyst.get("/overrides", params={"include_deleted": "true"})).json()["total"] == 1

        audit = (await analyst.get(f"/overrides/{override['id']}/audit")).json()
        assert [(a["action"], a["author"]) for a in audit] == [
            ("created", "operator alice"),
            ("updated", "operator alice"),
            ("deleted", "operator alice"),
        ]
        assert [a["snapshot"]["value"] for a in audit] == [50, 40, 40]
        assert audit[2]["snapshot"]["deleted_at"] is not None
        problem(await operator.patch(f"/overrides/{override['id']}", json={"value": 1}), 409)
    finally:
        unsubscribe()
    assert [(e.override_id, e.action, e.site_id) for e in seen] == [
        (override["id"], "created", site["id"]),
        (override["id"], "updated", site["id"]),
        (override["id"], "deleted", site["id"]),
    ]
    problem(await analyst.get("/overrides/9999/audit"), 404)
    problem(await operator.delete("/overrides/9999"), 404)


async def test_expiry_and_schedule_are_a_matter_of_time(operator: httpx.AsyncClient) -> None:
    site = await make_site(operator)
    base = {"scope": "site", "site_id": site["id"], "kind": "pause", "reason": "maintenance"}
    expired = (await operator.post("/overrides", json={**base, **window(-3, -1)})).json()
    scheduled = (await operator.post("/overrides", json={**base, **window(1, 2)})).json()
    open_ended = (await operator.post("/overrides", json={**base, **window(-1, None)})).json()
    assert (expired["status"], scheduled["status"], open_ended["status"]) == (
        "expired",
        "scheduled",
        "active",
    )

    active = (await operator.get("/overrides", params={"active": "true"})).json()
    assert [o["id"] for o in active["items"]] == [open_ended["id"]]
    inactive = (await operator.get("/overrides", params={"active": "false"})).json()
    assert {o["id"] for o in inactive["items"]} == {expired["id"], scheduled["id"]}
    assert (await operator.get("/overrides", params={"kind": "cap_kw"})).json()["total"] == 0


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"scope": "site", "kind": "cap_kw", "value": 1}, "site_id: required"),
        (
            {"scope": "site", "site_id": 0, "group_id": 1, "kind": "cap_kw", "value": 1},
            "group_id: not allowed",
        ),
        ({"scope": "site", "site_id": 0, "kind": "fixed_kw", "value": 1}, "fixed_kw applies to one session"),
        ({"scope": "site", "site_id": 0, "kind": "pause", "value": 1}, "a pause takes no value"),
        ({"scope": "site", "site_id": 0, "kind": "cap_kw"}, "cap_kw needs a finite value"),
        ({"scope": "site", "site_id": 0, "kind": "cap_kw", "value": -1}, "cap_kw needs a finite value"),
        ({"scope": "site", "site_id": 0, "kind": "priority", "value": 1.5}, "a priority is a whole number"),
        ({"scope": "connector", "charge_point_id": "CP1", "kind": "pause"}, "connector_id: required"),
        (
            {"scope": "site", "site_id": 0, "kind": "pause", **window(2, 1)},
            "valid_until: must be after valid_from",
        ),
        (
            {"scope": "site", "site_id": 0, "kind": "pause", "valid_from": "2030-01-01T00:00:00"},
            "body.valid_from",
        ),
        ({"scope": "everywhere", "site_id": 0, "kind": "pause"}, "body.scope"),
        ({"scope": "site", "site_id": 0, "kind": "slow"}, "body.kind"),
    ],
)
async def test_validation(operator: httpx.AsyncClient, body: dict[str, Any], expected: str) -> None:
    site = await make_site(operator)
    if body.get("site_id") == 0:
        body = {**body, "site_id": site["id"]}
    response = await operator.post("/overrides", json={"reason": "test", **body})
    assert expected in problem(response, 422)["detail"]


async def test_targets_must_exist(operator: httpx.AsyncClient) -> None:
    for target in (
        {"scope": "site", "site_id": 999},
        {"scope": "group", "group_id": 999},
        {"scope": "charge_point", "charge_point_id": "NOPE"},
        {"scope": "transaction", "transaction_id": 999},
    ):
        problem(await operator.post("/overrides", json={**target, "kind": "pause", "reason": "x"}), 404)


async def test_grid_operator_may_not_touch_overrides(planning: Planning, operator: httpx.AsyncClient) -> None:
    site = await make_site(operator)
    dso = await planning.client(Role.grid_operator, site_ids=[site["id"]])
    body = {"scope": "site", "site_id": site["id"], "kind": "pause", "reason": "x"}
    problem(await dso.post("/overrides", json=body), 403)
    problem(await dso.get("/overrides"), 403)


async def test_active_overrides_of_a_site_for_the_scheduler(
    planning: Planning, operator: httpx.AsyncClient, database: Database
) -> None:
    site = await make_site(operator)
    other = await make_site(operator, name="Other")
    group = (await operator.post(f"/sites/{site['id']}/groups", json={"name": "g"})).json()
    await planning.charge_point("CP1")
    await planning.charge_point("CP9")
    await operator.put(f"/sites/{site['id']}/charge-points/CP1", json={"group_id": group["id"]})
    await operator.put(f"/sites/{other['id']}/charge-points/CP9", json={})
    now = datetime.now(UTC)
    tx = await planning.transaction("CP1", "TAG", now - timedelta(hours=1))
    tx_elsewhere = await planning.transaction("CP9", "TAG", now - timedelta(hours=1))

    async def add(target: dict[str, Any], kind: str = "pause", **extra: Any) -> int:
        response = await operator.post("/overrides", json={**target, "kind": kind, "reason": "r", **extra})
        assert response.status_code == 201, response.text
        return int(response.json()["id"])

    mine = [
        await add({"scope": "site", "site_id": site["id"]}, "cap_kw", value=80, **window(-1, 1)),
        await add({"scope": "group", "group_id": group["id"]}, **window(0.5, 3)),
        await add(
            {"scope": "charge_point", "charge_point_id": "CP1"}, "priority", value=5, **window(-1, None)
        ),
        await add({"scope": "connector", "charge_point_id": "CP1", "connector_id": 2}, "fixed_kw", value=7),
        await add({"scope": "transaction", "transaction_id": tx}, "cap_kw", value=3),
    ]
    await add({"scope": "site", "site_id": other["id"]})
    await add({"scope": "transaction", "transaction_id": tx_elsewhere})
    await add({"scope": "site", "site_id": site["id"]}, **window(-3, -2))  # over before the window
    await add({"scope": "site", "site_id": site["id"]}, **window(5, 6))  # starts after the window
    deleted = await add({"scope": "site", "site_id": site["id"]})
    await operator.delete(f"/overrides/{deleted}")

    async with database.session() as session:
        rows = await overrides.active_overrides(
            SqlUnitOfWork(session), site["id"], now, now + timedelta(hours=4)
        )
    assert [r.id for r in rows] == mine
    on_cp1 = (await operator.get("/overrides", params={"charge_point_id": "CP1"})).json()["items"]
    assert sorted(o["id"] for o in on_cp1) == mine[2:]  # the charge point, its connector, its transaction
