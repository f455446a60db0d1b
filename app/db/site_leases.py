"""Site leases on PostgreSQL: scheduler processes' leases and which scheduler plans which site
(`app.db.tables.cluster`).

A site's claim counts only while its scheduler's lease runs; lease times are the database's clock
(`now()`), as for the gateways' presence. Each round of `balance` hands out what nobody holds, at most a
fair share to each: the sites divided by the live schedulers, rounded up. So a scheduler that starts first
does not keep every site, and the sites of one that stopped renewing are spread over the others.
"""

from datetime import timedelta

from sqlalchemy import delete, func, insert, literal, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from app.db.engine import Database
from app.db.tables.cluster import scheduler_lease_table as lease
from app.db.tables.cluster import site_lease_table as site_lease
from app.db.tables.planning import site_table as site

__all__ = ["SqlSiteLeases"]

_running = lease.c.expires_at > func.now()


class SqlSiteLeases:
    def __init__(self, database: Database) -> None:
        self._engine = database.engine

    async def renew(self, scheduler_id: str, lease_s: float) -> bool:
        """Extend `scheduler_id`'s lease by `lease_s` from now; False when it had no running lease (its first
        round, or it lapsed): then it holds no site, whatever it held before."""
        expires = func.now() + timedelta(seconds=lease_s)
        async with self._engine.begin() as connection:
            result = await connection.execute(
                update(lease).where(lease.c.scheduler_id == scheduler_id, _running).values(expires_at=expires)
            )
            if result.rowcount:
                return True
            await connection.execute(delete(site_lease).where(site_lease.c.scheduler_id == scheduler_id))
            await connection.execute(delete(lease).where(lease.c.scheduler_id == scheduler_id))
            await connection.execute(
                insert(lease).values(scheduler_id=scheduler_id, expires_at=expires, joined_at=func.now())
            )
            return False

    async def balance(self, scheduler_id: str) -> set[int]:
        """One round for `scheduler_id` (whose lease runs): forget the leases that expired and their sites,
        give back what it holds over its fair share, claim sites nobody holds up to it. Returns the sites it
        holds now."""
        async with self._engine.begin() as connection:
            await connection.execute(delete(lease).where(~_running))
            holder = select(lease.c.scheduler_id).where(lease.c.scheduler_id == site_lease.c.scheduler_id)
            await connection.execute(delete(site_lease).where(~holder.exists()))
            live = (await connection.execute(select(func.count()).select_from(lease))).scalar_one()
            sites = (await connection.execute(select(func.count()).select_from(site))).scalar_one()
            share = -(-sites // max(live, 1))
            held = list(
                (
                    await connection.execute(
                        select(site_lease.c.site_id)
                        .where(site_lease.c.scheduler_id == scheduler_id)
                        .order_by(site_lease.c.site_id)
                    )
                ).scalars()
            )
            if len(held) > share:
                surplus = held[share:]
                await connection.execute(
                    delete(site_lease).where(
                        site_lease.c.scheduler_id == scheduler_id, site_lease.c.site_id.in_(surplus)
                    )
                )
                return set(held[:share])
            if len(held) < share:
                unheld = (
                    select(site.c.id, literal(scheduler_id), func.now())
                    .where(~select(site_lease.c.site_id).where(site_lease.c.site_id == site.c.id).exists())
                    .order_by(site.c.id)
                    .limit(share - len(held))
                )
                claimed = await connection.execute(
                    pg_insert(site_lease)
                    .from_select(["site_id", "scheduler_id", "since"], unheld)
                    .on_conflict_do_nothing()
                    .returning(site_lease.c.site_id)
                )
                held.extend(claimed.scalars())
            return set(held)

    async def leave(self, scheduler_id: str) -> None:
        """A clean stop: the lease and every site of `scheduler_id` go (the others claim them at their next
        round)."""
        async with self._engine.begin() as connection:
            await connection.execute(delete(site_lease).where(site_lease.c.scheduler_id == scheduler_id))
            await connection.execute(delete(lease).where(lease.c.scheduler_id == scheduler_id))

    async def holders(self) -> dict[int, str]:
        """Each site held under a running lease, and its scheduler."""
        async with self._engine.connect() as connection:
            rows = await connection.execute(
                select(site_lease.c.site_id, site_lease.c.scheduler_id).select_from(
                    site_lease.join(lease, (lease.c.scheduler_id == site_lease.c.scheduler_id) & _running)
                )
            )
            return {row.site_id: row.scheduler_id for row in rows}
