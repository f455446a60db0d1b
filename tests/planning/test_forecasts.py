"""Forecasts over HTTP: posting (JSON, bare list, CSV), validation naming rows, idempotency, conservative
resampling, the effective forecast, grid-operator scoping, and what the scheduler reads."""

import asyncio
import json
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from app.db.engine import Database
from app.db.store import SqlUnitOfWork
from app.domain.enums import Role
from app.domain.events import ForecastPosted
from app.services.errors import Invalid
from app.services.planning import forecasts
from tests.planning.conftest import HORIZON_DAYS, Planning, iso, make_site, next_hour, problem

pytestmark = pytest.mark.anyio


def rows(start: datetime, minutes: int, limits: list[float]) -> list[dict[str, Any]]:
    step = timedelta(minutes=minutes)
    return [
        {"start": iso(start + i * step), "end": iso(start + (i + 1) * step), "limit_kw": limit}
        for i, limit in enumerate(limits)
    ]


def csv_of(items: list[dict[str, Any]]) -> str:
    return "start,end,limit_kw\n" + "".join(f"{r['start']},{r['end']},{r['limit_kw']}\n" for r in items)


async def effective(
    client: httpx.AsyncClient, site_id: int, start: datetime, hours: float
) -> list[dict[str, Any]]:
    response = await client.get(
        f"/sites/{site_id}/forecasts/effective",
        params={"from": iso(start), "to": iso(start + timedelta(hours=hours))},
    )
    assert response.status_code == 200, response.text
    intervals: list[dict[str, Any]] = response.json()["intervals"]
    return intervals


async def test_post_json_then_read_back(operator: httpx.AsyncClient) -> None:
    site = await make_site(operator)
    t0 = next_hour()
    body = {
        "forecast_id": "dso-1",
        "issued_at": iso(t0 - timedelta(hours=2)),
        "intervals": rows(t0, 15, [50, 60]),
    }
    response = await operator.post(f"/sites/{site['id']}/forecasts", json=body)
    assert response.status_code == 201, response.text
    created = response.json()
    assert response.headers["location"] == f"/api/v1/sites/{site['id']}/forecasts/{created['id']}"
    assert created["forecast_id"] == "dso-1"
    assert created["source"] == "json"
    assert created["author"] == "operator alice"
    assert created["interval_count"] == 2

    detail = (await operator.get(f"/sites/{site['id']}/forecasts/{created['id']}")).json()
    assert [r["limit_kw"] for r in detail["intervals"]] == [50, 60]
    assert [r["limit_kw"] for r in detail["resampled"]] == [50, 60]

    history = (await operator.get(f"/sites/{site['id']}/forecasts")).json()
    assert history["total"] == 1
    assert history["items"][0]["id"] == created["id"]
    naive = (t0 - timedelta(hours=2)).replace(tzinfo=None).isoformat()  # no offset: UTC
    later = await operator.get(f"/sites/{site['id']}/forecasts", params={"issued_from": naive})
    assert later.json()["total"] == 1
    before = await operator.get(f"/sites/{site['id']}/forecasts", params={"issued_to": naive})
    assert before.json()["total"] == 0


async def test_concurrent_identical_posts_make_one_forecast(operator: httpx.AsyncClient) -> None:
    site = await make_site(operator)
    url = f"/sites/{site['id']}/forecasts"
    body = {"forecast_id": "race", "intervals": rows(next_hour(), 5, [float(i) for i in range(288)])}
    responses = await asyncio.gather(*(operator.post(url, json=body) for _ in range(4)))
    assert sorted(r.status_code for r in responses) == [200, 200, 200, 201]
    assert len({r.json()["id"] for r in responses}) == 1
    assert (await operator.get(url)).json()["total"] == 1


async def test_json_replay_is_idempotent_and_a_changed_body_conflicts(operator: httpx.AsyncClient) -> None:
    site = await make_site(operator)
    t0 = next_hour()
    url = f"/sites/{site['id']}/forecasts"
    body = {"forecast_id": "dso-7", "intervals": rows(t0, 15, [80, 70, 60])}
    first = await operator.post(url, json=body)
    again = await operator.post(url, json=body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert (await operator.get(url)).json()["total"] == 1

    changed = {"forecast_id": "dso-7", "intervals": rows(t0, 15, [80, 70, 61])}
    body_409 = problem(await operator.post(url, json=changed), 409)
    assert "dso-7" in body_409["detail"]


async def test_bare_list_is_idempotent_on_issued_at(operator: httpx.AsyncClient) -> None:
    site = await make_site(operator)
    t0 = next_hour()
    url = f"/sites/{site['id']}/forecasts"
    issued = {"issued_at": iso(t0 - timedelta(hours=1))}
    first = await operator.post(url, json=rows(t0, 60, [90]), params=issued)
    again = await operator.post(url, json=rows(t0, 60, [90]), params=issued)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    problem(await operator.post(url, json=rows(t0, 60, [91]), params=issued), 409)
    # the same instant written with another offset is the same key
    same_instant = (t0 - timedelta(hours=1)).astimezone(timezone(timedelta(hours=2))).isoformat()
    replay = await operator.post(url, json={"issued_at": same_instant, "intervals": rows(t0, 60, [90])})
    assert (replay.status_code, replay.json()["id"]) == (200, first.json()["id"])
    # without forecast_id or issued_at every post is a new forecast
    assert (await operator.post(url, json=rows(t0, 60, [90]))).status_code == 201
    assert (await operator.get(url)).json()["total"] == 2


async def test_csv_post_replay_and_same_content_as_json(operator: httpx.AsyncClient) -> None:
    site = await make_site(operator)
    t0 = next_hour()
    url = f"/sites/{site['id']}/forecasts"
    items = rows(t0, 30, [40, 45.5])
    headers = {"Content-Type": "text/csv"}
    first = await operator.post(url, content=csv_of(items), headers=headers, params={"forecast_id": "csv-1"})
    assert first.status_code == 201, first.text
    assert first.json()["source"] == "csv"
    again = await operator.post(url, content=csv_of(items), headers=headers, params={"forecast_id": "csv-1"})
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    as_json = await operator.post(url, json={"forecast_id": "csv-1", "intervals": items})
    assert as_json.status_code == 200
    upload = await operator.post(
        url, files={"file": ("forecast.csv", csv_of(items), "text/csv")}, data={"forecast_id": "csv-1"}
    )
    assert upload.status_code == 200, upload.text
    assert upload.json()["id"] == first.json()["id"]
    problem(await operator.post(url, data={"forecast_id": "csv-1"}, files={"other": ("x", b"")}), 422)
    changed = csv_of(rows(t0, 30, [40, 45]))
    problem(await operator.post(url, content=changed, headers=headers, params={"forecast_id": "csv-1"}), 409)


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda r: r[1].update(limit_kw=float("nan")), "intervals[1].limit_kw: must be finite"),
        (lambda r: r[1].update(limit_kw=float("inf")), "intervals[1].limit_kw: must be finite"),
        (lambda r: r[2].update(limit_kw=-1), "intervals[2].limit_kw: must not be negative"),
        (lambda r: r[0].update(limit_kw="lots"), "intervals[0].limit_kw: not a number"),
        (lambda r: r[0].pop("limit_kw"), "intervals[0].limit_kw: required"),
        (
            lambda r: r[1].update(start=r[1]["start"].rstrip("Z")),
            "intervals[1].start: must be timezone-aware",
        ),
        (lambda r: r[1].update(end="tomorrow"), "intervals[1].end: not an ISO 8601 date-time"),
        (lambda r: r[1].update(end=r[1]["start"]), "intervals[1].end: must be after start"),
        (lambda r: r.insert(0, r.pop(2)), "intervals[1].start: not in order: starts before intervals[0]"),
        (lambda r: r[2].update(start=r[1]["start"]), "intervals[2].start: overlaps intervals[1]"),
    ],
)
async def test_json_validation_names_the_row(operator: httpx.AsyncClient, mutate: Any, expected: str) -> None:
    site = await make_site(operator)
    items = rows(next_hour(), 15, [10, 20, 30])
    mutate(items)
    response = await operator.post(
        f"/sites/{site['id']}/forecasts",
        content=json.dumps({"intervals": items}),  # json.dumps writes NaN and Infinity, as some clients do
        headers={"Content-Type": "application/json"},
    )
    body = problem(response, 422)
    assert expected in body["detail"]
    assert any(expected.startswith(e["path"]) for e in body["errors"])
    assert all(e["loc"][0] == "body" for e in body["errors"])
    assert (await operator.get(f"/sites/{site['id']}/forecasts")).json()["total"] == 0


async def test_horizon_is_limited_by_settings(operator: httpx.AsyncClient) -> None:
    site = await make_site(operator)
    far = next_hour() + timedelta(days=HORIZON_DAYS)
    items = rows(next_hour(), 15, [10]) + rows(far, 60, [10])
    body = problem(await operator.post(f"/sites/{site['id']}/forecasts", json=items), 422)
    assert f"intervals[1].end: beyond the horizon of {HORIZON_DAYS} days" in body["detail"]


async def test_whole_body_problems(operator: httpx.AsyncClient) -> None:
    url = f"/sites/{(await make_site(operator))['id']}/forecasts"
    assert "at least one interval" in problem(await operator.post(url, json=[]), 422)["detail"]
    assert (
        "intervals: required" in problem(await operator.post(url, json={"forecast_id": "x"}), 422)["detail"]
    )
    unknown = await operator.post(url, json={"intervals": rows(next_hour(), 15, [1]), "unit": "MW"})
    assert "unit: unknown field" in problem(unknown, 422)["detail"]
    broken = await operator.post(url, content=b"{not json", headers={"Content-Type": "application/json"})
    assert "not valid JSON" in problem(broken, 422)["detail"]
    problem(await operator.post(url, content=b"<xml/>", headers={"Content-Type": "application/xml"}), 415)
    missing = await operator.post(url, content="start,end\n", headers={"Content-Type": "text/csv"})
    assert "missing column(s) limit_kw" in problem(missing, 422)["detail"]


async def test_csv_validation_names_the_row(operator: httpx.AsyncClient) -> None:
    site = await make_site(operator)
    items = rows(next_hour(), 15, [10, 20, 30, 40, 50])
    items[4]["limit_kw"] = "nan"
    items[2]["start"] = items[2]["start"].rstrip("Z")
    response = await operator.post(
        f"/sites/{site['id']}/forecasts", content=csv_of(items), headers={"Content-Type": "text/csv"}
    )
    body = problem(response, 422)
    assert "row 3.start: must be timezone-aware" in body["detail"]
    assert "row 5.limit_kw: must be finite" in body["detail"]
    assert {e["path"] for e in body["errors"]} == {"row 3.start", "row 5.limit_kw"}
    assert ["body", "row", 5, "limit_kw"] in [e["loc"] for e in body["errors"]]


async def test_five_minute_input_is_resampled_to_the_minimum(operator: httpx.AsyncClient) -> None:
    site = await make_site(operator)
    t0 = next_hour()
    limits = [50, 40, 45, 60, 60, 60, 70, 20, 90]
    await operator.post(f"/sites/{site['id']}/forecasts", json=rows(t0, 5, limits))
    got = await effective(operator, site["id"], t0, 1)
    assert [i["limit_kw"] for i in got] == [40, 60, 20, 100]  # the last interval: fallback
    assert [i["source"] for i in got] == ["forecast"] * 3 + ["fallback"]
    assert [i["capacity_kw"] for i in got] == [30, 50, 10, 90]  # less the 10 kW safety margin


async def test_hourly_input_is_copied_to_each_interval(operator: httpx.AsyncClient) -> None:
    site = await make_site(operator)
    t0 = next_hour()
    await operator.post(f"/sites/{site['id']}/forecasts", json=rows(t0, 60, [80, 500]))
    got = await effective(operator, site["id"], t0, 2)
    assert [i["limit_kw"] for i in got] == [80] * 4 + [500] * 4
    assert [i["capacity_kw"] for i in got] == [70] * 4 + [390] * 4  # capped by the 400 kW connection


async def test_most_recently_issued_forecast_wins_per_interval(operator: httpx.AsyncClient) -> None:
    site = await make_site(operator, interval_minutes=60)
    t0 = next_hour()
    url = f"/sites/{site['id']}/forecasts"
    old = await operator.post(
        url, json={"issued_at": iso(t0 - timedelta(hours=3)), "intervals": rows(t0, 60, [50] * 4)}
    )
    new = await operator.post(
        url,
        json={
            "issued_at": iso(t0 - timedelta(hours=1)),
            "intervals": rows(t0 + timedelta(hours=1), 60, [80, 30]),
        },
    )
    # posted later, but issued earlier than both: it never wins where they cover
    stale = await operator.post(
        url, json={"issued_at": iso(t0 - timedelta(hours=5)), "intervals": rows(t0, 60, [5] * 5)}
    )
    got = await effective(operator, site["id"], t0, 5)
    assert [i["limit_kw"] for i in got] == [50, 80, 30, 50, 5]
    ids = [i["forecast"]["id"] for i in got]
    assert ids == [old.json()["id"], new.json()["id"], new.json()["id"], old.json()["id"], stale.json()["id"]]

    # as the scheduler knew it before the second forecast arrived
    as_of = {"from": iso(t0), "to": iso(t0 + timedelta(hours=5)), "as_of": old.json()["created_at"]}
    known = (await operator.get(url + "/effective", params=as_of)).json()["intervals"]
    assert [i["limit_kw"] for i in known] == [50, 50, 50, 50, 100]

    csv = await operator.get(
        url + "/effective",
        params={"from": iso(t0), "to": iso(t0 + timedelta(hours=5))},
        headers={"Accept": "text/csv"},
    )
    assert csv.headers["content-type"].startswith("text/csv")
    lines = csv.text.strip().splitlines()
    assert lines[0] == "start,end,limit_kw,capacity_kw,source,forecast,forecast_id,issued_at"
    assert len(lines) == 6
    assert lines[2].split(",")[2] == "80.0"


async def test_a_newer_forecast_covering_part_of_an_interval_lowers_it(operator: httpx.AsyncClient) -> None:
    site = await make_site(operator)
    t0 = next_hour()
    url = f"/sites/{site['id']}/forecasts"
    await operator.post(
        url, json={"issued_at": iso(t0 - timedelta(hours=2)), "intervals": rows(t0, 15, [60, 60])}
    )
    # newer, starts mid-interval: covers the first interval only in part
    partial = [
        {"start": iso(t0 + timedelta(minutes=5)), "end": iso(t0 + timedelta(minutes=30)), "limit_kw": 20}
    ]
    newer = await operator.post(url, json={"issued_at": iso(t0 - timedelta(hours=1)), "intervals": partial})
    got = await effective(operator, site["id"], t0, 0.75)
    assert [i["limit_kw"] for i in got] == [20, 20, 100]
    assert got[0]["lowered_by"] == [newer.json()["id"]]
    assert got[0]["forecast"]["id"] != newer.json()["id"]
    assert got[2]["source"] == "fallback"


async def test_grid_operator_reaches_its_own_sites_only(
    planning: Planning, operator: httpx.AsyncClient
) -> None:
    mine, other = await make_site(operator), await make_site(operator, name="Other")
    dso = await planning.client(Role.grid_operator, "dso", site_ids=[mine["id"]])
    items = rows(next_hour(), 15, [10])
    assert (await dso.post(f"/sites/{mine['id']}/forecasts", json=items)).status_code == 201
    problem(await dso.post(f"/sites/{other['id']}/forecasts", json=items), 404)
    problem(await dso.get(f"/sites/{other['id']}/forecasts"), 404)
    problem(await dso.get(f"/sites/{other['id']}"), 404)
    assert [s["id"] for s in (await dso.get("/sites")).json()] == [mine["id"]]
    assert (await dso.get(f"/sites/{mine['id']}/forecasts/effective")).status_code == 200
    theirs = (await operator.post(f"/sites/{other['id']}/forecasts", json=items)).json()
    problem(await dso.get(f"/sites/{other['id']}/forecasts/{theirs['id']}"), 404)
    problem(await dso.get(f"/sites/{mine['id']}/forecasts/{theirs['id']}"), 404)  # not that site's
    problem(
        await dso.post("/sites", json={"name": "x", "grid_connection_limit_kw": 1, "fallback_limit_kw": 1}),
        403,
    )


async def test_analyst_reads_but_does_not_post(
    operator: httpx.AsyncClient, analyst: httpx.AsyncClient
) -> None:
    site = await make_site(operator)
    url = f"/sites/{site['id']}/forecasts"
    problem(await analyst.post(url, json=rows(next_hour(), 15, [10])), 403)
    assert (await analyst.get(url)).status_code == 200
    problem(await analyst.get(f"/sites/{site['id']}/forecasts/999"), 404)
    problem(await analyst.get("/sites/999/forecasts/effective"), 404)


async def test_forecast_csv_as_posted(operator: httpx.AsyncClient) -> None:
    site = await make_site(operator)
    items = rows(next_hour(), 5, [11, 12])
    created = (await operator.post(f"/sites/{site['id']}/forecasts", json=items)).json()
    response = await operator.get(f"/sites/{site['id']}/forecasts/{created['id']}", params={"format": "csv"})
    lines = response.text.strip().splitlines()
    assert lines[0] == "start,end,limit_kw"
    assert [line.split(",")[2] for line in lines[1:]] == ["11.0", "12.0"]


async def test_effective_capacity_for_the_scheduler(operator: httpx.AsyncClient, database: Database) -> None:
    site = await make_site(operator, safety_margin_kw=25)
    t0 = next_hour()
    await operator.post(f"/sites/{site['id']}/forecasts", json=rows(t0, 15, [500, 30, 10]))
    async with database.session() as session:
        uow = SqlUnitOfWork(session)
        capacity = await forecasts.effective_capacity(uow, site["id"], t0, 4)
        with pytest.raises(Invalid, match="not on a 15-minute boundary"):
            await forecasts.effective_capacity(uow, site["id"], t0 + timedelta(minutes=5), 4)
    assert capacity == [375, 5, 0, 75]  # min(f, 400) - 25 ≥ 0; fallback 100 - 25


async def test_posted_event_is_published_after_commit_and_not_on_replay(
    planning: Planning, operator: httpx.AsyncClient
) -> None:
    site = await make_site(operator)
    seen: list[ForecastPosted] = []
    awaited: list[int] = []

    async def slow_listener(event: ForecastPosted) -> None:  # a coroutine runs as a task
        await asyncio.sleep(0)
        awaited.append(event.forecast_pk)

    unsubscribe = planning.bus.subscribe(lambda e: seen.append(e) if isinstance(e, ForecastPosted) else None)
    unsubscribe_slow = planning.bus.subscribe(
        lambda e: slow_listener(e) if isinstance(e, ForecastPosted) else None
    )
    try:
        body = {"forecast_id": "hook", "intervals": rows(next_hour(), 15, [10])}
        first = await operator.post(f"/sites/{site['id']}/forecasts", json=body)
        await operator.post(f"/sites/{site['id']}/forecasts", json=body)
        await operator.post(f"/sites/{site['id']}/forecasts", json=[{"start": "bad"}])
    finally:
        unsubscribe()
        unsubscribe_slow()
    assert [(e.site_id, e.forecast_pk) for e in seen] == [(site["id"], first.json()["id"])]
    assert awaited == [first.json()["id"]]


async def test_default_window_and_a_changed_site_interval(operator: httpx.AsyncClient) -> None:
    site = await make_site(operator)
    t0 = next_hour()
    await operator.post(f"/sites/{site['id']}/forecasts", json=rows(t0, 10, [30, 20, 25, 35, 40, 45]))
    whole_day = (await operator.get(f"/sites/{site['id']}/forecasts/effective")).json()
    assert len(whole_day["intervals"]) == 96  # the next 24 hours from the current 15-minute interval

    # 10-minute rows on a 15-minute grid: each interval takes the minimum of the rows it touches
    assert [i["limit_kw"] for i in await effective(operator, site["id"], t0, 1)] == [20, 20, 35, 40]
    # the forecast is kept as posted, so a new site interval resamples it afresh
    await operator.patch(f"/sites/{site['id']}", json={"interval_minutes": 30})
    assert [i["limit_kw"] for i in await effective(operator, site["id"], t0, 1)] == [20, 35]


async def test_detail_shows_partial_coverage(operator: httpx.AsyncClient) -> None:
    site = await make_site(operator)
    t0 = next_hour()
    items = [
        {"start": iso(t0 + timedelta(minutes=5)), "end": iso(t0 + timedelta(minutes=20)), "limit_kw": 12}
    ]
    created = (await operator.post(f"/sites/{site['id']}/forecasts", json=items)).json()
    detail = (await operator.get(f"/sites/{site['id']}/forecasts/{created['id']}")).json()
    assert [(r["limit_kw"], round(r["covered"], 3)) for r in detail["resampled"]] == [
        (12, 0.667),
        (12, 0.333),
    ]
    assert detail["resampled"][0]["start"].startswith(iso(t0)[:16])


async def test_a_forecast_wholly_in_the_past_is_refused(operator: httpx.AsyncClient) -> None:
    url = f"/sites/{(await make_site(operator))['id']}/forecasts"
    past = next_hour() - timedelta(hours=3)
    body = problem(await operator.post(url, json=rows(past, 15, [10, 20])), 422)
    assert "intervals[1].end: the whole forecast is in the past" in body["detail"]
    assert body["errors"][0]["loc"] == ["body", "intervals", 1, "end"]
    csv = await operator.post(url, content=csv_of(rows(past, 60, [5])), headers={"Content-Type": "text/csv"})
    assert "row 1.end: the whole forecast is in the past" in problem(csv, 422)["detail"]
    assert (await operator.get(url)).json()["total"] == 0

    reaching_now = await operator.post(url, json=rows(past, 60, [10, 20, 30, 40]))
    assert reaching_now.status_code == 201, reaching_now.text
