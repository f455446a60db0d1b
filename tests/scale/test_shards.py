"""Planning sharded by site: two scheduler processes share the sites (each planned by exactly one), and
when one is killed the other takes its sites over and plans them."""

import asyncio
import contextlib
from collections import defaultdict
from contextlib import AbstractAsyncContextManager

import pytest
from sqlalchemy import func, select

from app.db.tables.cluster import scheduler_lease_table, site_lease_table
from app.db.tables.planning import schedule_revision_table
from tests.e2e.test_smart_charging import current_kw
from tests.gateway.helpers import eventually
from tests.scale.helpers import LEASE_S, Layout, Process, Served, role_process
from tests.scale.test_events import charging, forecast

pytestmark = pytest.mark.anyio


async def live_schedulers(process: Process) -> set[str]:
    lease = scheduler_lease_table
    async with process.app.state.database.engine.connect() as connection:
        rows = await connection.execute(select(lease.c.scheduler_id).where(lease.c.expires_at > func.now()))
        return set(rows.scalars())


async def site_holders(process: Process) -> dict[int, str]:
    async with process.app.state.database.engine.connect() as connection:
        rows = await connection.execute(select(site_lease_table.c.site_id, site_lease_table.c.scheduler_id))
        return {row.site_id: row.scheduler_id for row in rows}


async def planners(process: Process, *, after_id: int = 0) -> dict[int, set[str | None]]:
    """Per site, the schedulers its revisions (those after `after_id`) were planned by."""
    revision = schedule_revision_table.c
    async with process.app.state.database.engine.connect() as connection:
        rows = await connection.execute(
            select(revision.site_id, revision.planned_by).where(revision.id > after_id)
        )
        found: dict[int, set[str | None]] = defaultdict(set)
        for row in rows:
            found[row.site_id].add(row.planned_by)
        return found


async def forecast_planned(process: Process, site_ids: list[int]) -> bool:
    revision = schedule_revision_table.c
    async with process.app.state.database.engine.connect() as connection:
        rows = await connection.execute(
            select(revision.site_id).where(
                revision.site_id.in_(site_ids), revision.trigger.contains("forecast posted")
            )
        )
        return set(rows.scalars()) == set(site_ids)


async def add_site(api: Process, name: str) -> int:
    site = await api.http.post(
        "/api/v1/sites", json={"name": name, "grid_connection_limit_kw": 100, "fallback_limit_kw": 11}
    )
    assert site.status_code == 201, site.text
    site_id: int = site.json()["id"]
    return site_id


def scheduler(layout: Layout, name: str) -> AbstractAsyncContextManager[Served]:
    """A scheduler process (to be killed), on the tests' short lease."""
    return role_process(
        layout,
        "scheduler",
        scheduler_name=name,
        site_lease_s=LEASE_S,
        scheduler_retry_backoff_s=0.05,
        scheduler_retry_attempts=2,
    )


async def test_two_schedulers_plan_each_site_exactly_once(layout: Layout) -> None:
    api = await layout.start("api")
    async with scheduler(layout, "sched-a"), scheduler(layout, "sched-b"):
        await eventually(lambda: _equal(live_schedulers(api), {"sched-a", "sched-b"}), timeout_s=10)
        site_ids = [await add_site(api, f"depot-{n}") for n in range(6)]
        await eventually(lambda: _covered(api, site_ids), timeout_s=10 * LEASE_S)
        for site_id in site_ids:  # the scheduler holding each site plans it
            await forecast(api, site_id, f"dso-{site_id}", 30.0)
        await eventually(lambda: forecast_planned(api, site_ids), timeout_s=60)

        holders = await site_holders(api)
        assert sorted(holders) == sorted(site_ids)
        assert sorted(holders.values()) == ["sched-a"] * 3 + ["sched-b"] * 3  # ceil(6 / 2) each
        planned = await planners(api)
        for site_id in site_ids:
            assert planned[site_id] == {holders[site_id]}, f"site {site_id}: planned by {planned[site_id]}"


async def test_a_killed_scheduler_s_sites_are_taken_over_and_planned(layout: Layout) -> None:
    api = await layout.start("api")
    gateway = await layout.start("gateway", gateway_id="gw-a")
    async with (
        scheduler(layout, "sched-a") as served_a,
        scheduler(layout, "sched-b"),
    ):
        await eventually(lambda: _equal(live_schedulers(api), {"sched-a", "sched-b"}), timeout_s=10)
        site_ids = [await add_site(api, f"depot-{n}") for n in range(4)]
        await eventually(lambda: _covered(api, site_ids), timeout_s=10 * LEASE_S)
        for site_id in site_ids:
            await forecast(api, site_id, f"dso-1-{site_id}", 12.0)
        async with contextlib.AsyncExitStack() as stack:
            sessions = {
                site_id: await stack.enter_async_context(
                    charging(api, gateway, site_id, f"CP{site_id}", f"T{site_id}")
                )
                for site_id in site_ids
            }
            await eventually(
                lambda: all(abs(current_kw(cp, tx) - 12.0) < 0.5 for cp, tx in sessions.values()),
                timeout_s=60,  # a generous bound: it returns as soon as they have them
            )
            holders = await site_holders(api)
            of_a = sorted(site for site, holder in holders.items() if holder == "sched-a")
            assert len(of_a) == 2

            served_a.process.kill()  # SIGKILL: its lease is no longer renewed
            await asyncio.to_thread(served_a.process.wait)
            last = await _last_revision(api)  # sched-a planned up to here (it may replan till killed)
            await eventually(
                lambda: _equal(site_holders(api), dict.fromkeys(site_ids, "sched-b")), timeout_s=10 * LEASE_S
            )
            for site_id in of_a:  # to the API process: the scheduler that took the site over plans it
                await forecast(api, site_id, f"dso-2-{site_id}", 9.0)
            await eventually(
                lambda: all(abs(current_kw(*sessions[site]) - 9.0) < 0.5 for site in of_a), timeout_s=60
            )
            planned = await planners(api, after_id=last)
            for site_id in of_a:
                assert planned[site_id] == {"sched-b"}


async def _equal(found: object, expected: object) -> bool:
    return await found == expected  # type: ignore[misc]


async def _covered(api: Process, site_ids: list[int]) -> bool:
    return sorted(await site_holders(api)) == sorted(site_ids)


async def _last_revision(api: Process) -> int:
    async with api.app.state.database.engine.connect() as connection:
        found = await connection.execute(select(func.max(schedule_revision_table.c.id)))
        return int(found.scalar_one() or 0)
