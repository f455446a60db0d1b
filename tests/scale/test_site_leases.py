"""Site leases on PostgreSQL (`app.db.site_leases`): every site held by one live scheduler at a time,
shared out fairly, and taken over when a scheduler's lease lapses."""

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import insert, update
from sqlalchemy import text as sql

from app.db.engine import Database, create_engine
from app.db.site_leases import SqlSiteLeases
from app.db.tables.cluster import scheduler_lease_table
from app.db.tables.planning import site_table

pytestmark = pytest.mark.anyio

LEASE_S = 30.0  # long: a lease lapses in these tests only when a test makes it


@pytest.fixture
async def leases(pg_url: str) -> AsyncIterator[SqlSiteLeases]:
    database = Database(create_engine(pg_url))
    try:
        yield SqlSiteLeases(database)
    finally:
        await database.dispose()


async def add_sites(leases: SqlSiteLeases, count: int, start: int = 0) -> list[int]:
    now = datetime.now(UTC)
    rows = [
        {
            "name": f"site-{start + n}",
            "timezone": "UTC",
            "interval_minutes": 15,
            "grid_connection_limit_kw": 100.0,
            "fallback_limit_kw": 10.0,
            "safety_margin_kw": 0.0,
            "created_at": now,
            "updated_at": now,
        }
        for n in range(count)
    ]
    async with leases._engine.begin() as connection:
        added = await connection.execute(insert(site_table).values(rows).returning(site_table.c.id))
        return list(added.scalars())


async def lapse(leases: SqlSiteLeases, scheduler_id: str) -> None:
    """As if the scheduler had been killed a lease ago: its lease ran out."""
    async with leases._engine.begin() as connection:
        await connection.execute(
            update(scheduler_lease_table)
            .where(scheduler_lease_table.c.scheduler_id == scheduler_id)
            .values(expires_at=sql("now() - interval '1 second'"))
        )


async def round_of(leases: SqlSiteLeases, scheduler_id: str) -> set[int]:
    await leases.renew(scheduler_id, LEASE_S)
    return await leases.balance(scheduler_id)


async def test_schedulers_that_join_together_share_the_sites(leases: SqlSiteLeases) -> None:
    sites = await add_sites(leases, 10)
    assert not await leases.renew("a", LEASE_S)  # the first round: no lease yet
    assert not await leases.renew("b", LEASE_S)
    assert await leases.renew("a", LEASE_S)
    held_a, held_b = await leases.balance("a"), await leases.balance("b")
    assert (len(held_a), len(held_b)) == (5, 5)
    assert held_a | held_b == set(sites)
    assert await leases.holders() == dict.fromkeys(held_a, "a") | dict.fromkeys(held_b, "b")
    assert await leases.balance("a") == held_a  # a round that changes nothing keeps what it holds


async def test_a_scheduler_that_joins_later_gets_its_share(leases: SqlSiteLeases) -> None:
    sites = await add_sites(leases, 9)
    assert await round_of(leases, "a") == set(sites)  # alone: every site
    assert await round_of(leases, "b") == set()  # nothing free yet
    kept = await round_of(leases, "a")  # two live: a gives back what is over ceil(9 / 2)
    assert len(kept) == 5
    assert await round_of(leases, "b") == set(sites) - kept
    holders = await leases.holders()
    assert sorted(holders) == sorted(sites)
    assert set(holders.values()) == {"a", "b"}


async def test_the_sites_of_a_lapsed_lease_are_taken_over(leases: SqlSiteLeases) -> None:
    sites = await add_sites(leases, 6)
    await leases.renew("a", LEASE_S)
    await leases.renew("b", LEASE_S)
    held_a = await leases.balance("a")
    await leases.balance("b")
    await lapse(leases, "a")
    assert set((await leases.holders()).values()) == {"b"}  # a lapsed lease holds nothing
    assert await round_of(leases, "b") == set(sites)  # alone again: every site, a's included
    assert held_a <= set(sites)

    # "a" comes back (a long pause, not a death): it holds nothing until it is given a share again
    assert not await leases.renew("a", LEASE_S)
    assert await leases.balance("a") == set()
    kept = await round_of(leases, "b")
    assert len(kept) == 3
    assert await round_of(leases, "a") == set(sites) - kept


async def test_a_clean_leave_frees_its_sites_at_once(leases: SqlSiteLeases) -> None:
    sites = await add_sites(leases, 4)
    await leases.renew("a", LEASE_S)
    await leases.renew("b", LEASE_S)
    await leases.balance("a")
    await leases.balance("b")
    await leases.leave("a")
    assert await leases.balance("b") == set(sites)


async def test_new_sites_are_claimed_at_the_next_round(leases: SqlSiteLeases) -> None:
    first = await add_sites(leases, 2)
    assert await round_of(leases, "a") == set(first)
    later = await add_sites(leases, 2, start=2)
    assert await round_of(leases, "a") == set(first) | set(later)


async def test_schedulers_balancing_at_the_same_time_never_share_a_site(leases: SqlSiteLeases) -> None:
    sites = await add_sites(leases, 25)
    names = ["a", "b", "c", "d"]
    for name in names:
        await leases.renew(name, LEASE_S)
    claimed: dict[str, set[int]] = {}
    for _ in range(3):  # racing rounds: a claim lost to another is claimed by nobody twice
        rounds = await asyncio.gather(*(leases.balance(name) for name in names))
        claimed = dict(zip(names, rounds, strict=True))
        for name in names:
            for other in names:
                if other != name:
                    assert not claimed[name] & claimed[other]
    assert set().union(*claimed.values()) == set(sites)
    assert max(len(held) for held in claimed.values()) <= 7  # ceil(25 / 4)
