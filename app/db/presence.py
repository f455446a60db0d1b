"""Presence on PostgreSQL: gateway leases and who holds which charge point (`app.db.tables.cluster`).

Lease times are the database's clock (`now()`), so gateways on machines whose clocks differ agree on what
has expired. A claim on a charge point counts only while its gateway's lease runs.
"""

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from datetime import timedelta

from sqlalchemy import and_, delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from app.db.engine import Database
from app.db.tables.cluster import charge_point_presence_table as presence
from app.db.tables.cluster import gateway_lease_table as lease
from app.domain.presence import Holder

_live = and_(presence.c.gateway_id == lease.c.gateway_id, lease.c.expires_at > func.now())


class SqlPresence:
    """The presence directory every scale-out process reads; gateways also write their own claims."""

    def __init__(self, database: Database) -> None:
        self._engine = database.engine

    async def renew(self, gateway_id: str, lease_s: float) -> bool:
        """Extend `gateway_id`'s lease by `lease_s` from now; False when it had none (first join, or it
        expired and was reaped: the caller claims its connections again)."""
        expires = func.now() + timedelta(seconds=lease_s)
        async with self._engine.begin() as connection:
            result = await connection.execute(
                update(lease).where(lease.c.gateway_id == gateway_id).values(expires_at=expires)
            )
            if result.rowcount:
                return True
            await connection.execute(
                insert(lease).values(gateway_id=gateway_id, expires_at=expires, joined_at=func.now())
            )
            return False

    async def leave(self, gateway_id: str) -> list[str]:
        """A clean stop: the lease and every claim of `gateway_id` go; returns the charge points it held."""
        async with self._engine.begin() as connection:
            held = await connection.execute(
                delete(presence)
                .where(presence.c.gateway_id == gateway_id)
                .returning(presence.c.charge_point_id)
            )
            await connection.execute(delete(lease).where(lease.c.gateway_id == gateway_id))
            return list(held.scalars())

    async def claim(self, charge_point_id: str, gateway_id: str, connection_id: str) -> Holder | None:
        """Make this connection the holder; returns the live holder it replaces (None if there was none)."""
        async with self._engine.begin() as connection:
            previous = (
                await connection.execute(
                    select(presence.c.gateway_id, presence.c.connection_id)
                    .select_from(presence.join(lease, _live))
                    .where(presence.c.charge_point_id == charge_point_id)
                    .with_for_update(of=presence)
                )
            ).first()
            row = {"gateway_id": gateway_id, "connection_id": connection_id, "since": func.now()}
            await connection.execute(
                pg_insert(presence)
                .values(charge_point_id=charge_point_id, **row)
                .on_conflict_do_update(index_elements=[presence.c.charge_point_id], set_=row)
            )
        return Holder(previous.gateway_id, previous.connection_id) if previous is not None else None

    async def claim_all(self, gateway_id: str, connections: Mapping[str, str]) -> list[str]:
        """Claim again what this gateway holds, after its lease lapsed (a newer holder elsewhere stays);
        returns the charge points claimed (not those another gateway held meanwhile)."""
        if not connections:
            return []
        rows = [
            {"charge_point_id": cp, "gateway_id": gateway_id, "connection_id": conn, "since": func.now()}
            for cp, conn in connections.items()
        ]
        async with self._engine.begin() as connection:
            claimed = await connection.execute(
                pg_insert(presence)
                .values(rows)
                .on_conflict_do_nothing()
                .returning(presence.c.charge_point_id)
            )
            return list(claimed.scalars())

    async def release(self, charge_point_id: str, connection_id: str) -> bool:
        async with self._engine.begin() as connection:
            result = await connection.execute(
                delete(presence).where(
                    presence.c.charge_point_id == charge_point_id, presence.c.connection_id == connection_id
                )
            )
            return bool(result.rowcount)

    @asynccontextmanager
    async def _reading(self) -> AsyncIterator[AsyncConnection]:
        """A connection for one lookup, without a transaction around it (no BEGIN and ROLLBACK round
        trips: a command looks up its charge point's holder on the way out)."""
        async with self._engine.connect() as connection:
            yield await connection.execution_options(isolation_level="AUTOCOMMIT")

    async def holder(self, charge_point_id: str) -> Holder | None:
        async with self._reading() as connection:
            row = (
                await connection.execute(
                    select(presence.c.gateway_id, presence.c.connection_id)
                    .select_from(presence.join(lease, _live))
                    .where(presence.c.charge_point_id == charge_point_id)
                )
            ).first()
        return Holder(row.gateway_id, row.connection_id) if row is not None else None

    async def alive(self, gateway_id: str) -> bool:
        """Whether `gateway_id`'s lease runs."""
        async with self._reading() as connection:
            found = await connection.execute(
                select(lease.c.gateway_id).where(
                    lease.c.gateway_id == gateway_id, lease.c.expires_at > func.now()
                )
            )
            return found.first() is not None

    async def held_ids(self) -> set[str]:
        """Every charge point some live gateway holds."""
        async with self._reading() as connection:
            rows = await connection.execute(
                select(presence.c.charge_point_id).select_from(presence.join(lease, _live))
            )
            return set(rows.scalars())

    async def reap(self) -> list[str]:
        """Forget gateways whose lease expired and their claims; returns the charge points they held (each
        returned to one caller only)."""
        async with self._engine.begin() as connection:
            await connection.execute(delete(lease).where(lease.c.expires_at <= func.now()))
            orphaned = ~select(lease.c.gateway_id).where(lease.c.gateway_id == presence.c.gateway_id).exists()
            rows = await connection.execute(
                delete(presence).where(orphaned).returning(presence.c.charge_point_id)
            )
            return list(rows.scalars())
