"""Charge points, their connectors and configuration, and what they reported (boots, status history)."""

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, exists, func, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from app.db.repositories.base import Repository, in_scope, page
from app.db.sql import execute_core, execute_insert_ignore, upsert
from app.db.tables.cluster import charge_point_presence_table, gateway_lease_table
from app.db.tables.ocpp import (
    boot_notification_table,
    charge_point_configuration_table,
    charge_point_table,
    command_table,
    connector_table,
    data_transfer_table,
    meter_value_table,
    reservation_table,
    status_notification_table,
)
from app.db.tables.security import (
    installed_certificate_table,
    issued_certificate_table,
    operation_status_table,
    security_event_table,
)
from app.domain.ocpp import (
    BootNotification,
    ChargePoint,
    ChargePointConfiguration,
    ConfigurationEntry,
    Connector,
    StatusNotification,
)
from app.domain.paging import Found, Window
from app.domain.queries import ChargePointFilter

CONFIGURATION_KEY = ("charge_point_id", "key")

# What goes with a charge point when it is removed, in this order.
REPORTED = (
    meter_value_table,
    status_notification_table,
    boot_notification_table,
    connector_table,
    charge_point_configuration_table,
    reservation_table,
    command_table,
    data_transfer_table,
    security_event_table,
    operation_status_table,
    issued_certificate_table,
    installed_certificate_table,
)


class SqlChargePointRepository(Repository):
    async def ids_in_sites(self, site_ids: Collection[int]) -> list[str]:
        query = select(charge_point_table.c.id).where(charge_point_table.c.site_id.in_(site_ids))
        return list((await self.session.exec(query)).all())

    async def get(self, charge_point_id: str) -> ChargePoint | None:
        return await self.session.get(ChargePoint, charge_point_id)

    async def add(self, charge_point: ChargePoint) -> bool:
        self.session.add(charge_point)
        try:
            await self.session.flush()
        except IntegrityError:
            return False
        return True

    async def add_if_absent(self, charge_point_id: str, registration_status: str, now: datetime) -> None:
        row = {"id": charge_point_id, "registration_status": registration_status, "created_at": now}
        await execute_insert_ignore(self.session, charge_point_table, [row], ["id"])

    async def delete(self, charge_point: ChargePoint) -> str | None:
        for table in REPORTED:
            await self.session.exec(delete(table).where(table.c.charge_point_id == charge_point.id))
        await self.session.delete(charge_point)
        try:
            await self.session.flush()
        except IntegrityError as exc:
            return str(exc.orig)
        return None

    async def mark_all_disconnected(self) -> None:
        await self._update(charge_point_table.c.connected, connected=False, connected_since=None)

    async def disconnect_unheld(self, charge_point_ids: Collection[str], now: datetime) -> list[str]:
        presence, lease = charge_point_presence_table.c, gateway_lease_table.c
        held = exists().where(
            presence.charge_point_id == charge_point_table.c.id,
            presence.gateway_id == lease.gateway_id,
            lease.expires_at > func.now(),
        )
        result = await execute_core(
            self.session,
            update(charge_point_table)
            .where(and_(charge_point_table.c.id.in_(list(charge_point_ids)), ~held))
            .values(connected=False, connected_since=None, last_seen_at=now)
            .returning(charge_point_table.c.id),
        )
        return [str(cp_id) for cp_id in result.scalars()]

    async def record_diagnostics_status(self, charge_point_id: str, status: str, now: datetime) -> None:
        await self._update(
            charge_point_table.c.id == charge_point_id,
            diagnostics_status=status,
            diagnostics_status_at=now,
            last_seen_at=now,
        )

    async def record_firmware_status(self, charge_point_id: str, status: str, now: datetime) -> None:
        await self._update(
            charge_point_table.c.id == charge_point_id,
            firmware_status=status,
            firmware_status_at=now,
            last_seen_at=now,
        )

    async def set_local_list_version(self, charge_point_id: str, version: int) -> None:
        await self._update(charge_point_table.c.id == charge_point_id, local_list_version=version)

    async def _update(self, where: Any, **values: Any) -> None:
        await self.session.exec(update(ChargePoint).where(where).values(**values))

    async def set_configuration(
        self, charge_point_id: str, entries: Sequence[ConfigurationEntry], now: datetime
    ) -> None:
        latest = {entry.key: entry for entry in entries}  # one row per key: an upsert changes a row once
        for known in (True, False):  # entries with `readonly` set it; the others keep what is stored
            rows = [
                {"charge_point_id": charge_point_id, "key": e.key, "value": e.value, "updated_at": now}
                | {"readonly": bool(e.readonly)}
                for e in latest.values()
                if (e.readonly is not None) == known
            ]
            if rows:
                changed = ("value", "updated_at", "readonly") if known else ("value", "updated_at")
                table = charge_point_configuration_table
                statement = upsert(self.session, table, rows, CONFIGURATION_KEY, changed)
                await execute_core(self.session, statement)

    async def connector(self, charge_point_id: str, connector_id: int) -> Connector | None:
        query = select(Connector).where(
            connector_table.c.charge_point_id == charge_point_id,
            connector_table.c.connector_id == connector_id,
        )
        return (await self.session.exec(query)).first()

    async def save_connector(self, connector: Connector) -> bool:
        self.session.add(connector)
        try:
            await self.session.flush()
        except IntegrityError:
            return False
        return True

    async def connectors_of(self, charge_point_ids: Sequence[str]) -> dict[str, list[Connector]]:
        found: dict[str, list[Connector]] = {cp: [] for cp in charge_point_ids}
        query = (
            select(Connector)
            .where(connector_table.c.charge_point_id.in_(charge_point_ids))
            .order_by(connector_table.c.charge_point_id, connector_table.c.connector_id)
        )
        for connector in (await self.session.exec(query)).all():
            found[connector.charge_point_id].append(connector)
        return found

    async def connectors(self, charge_point_id: str, window: Window) -> Found[Connector]:
        query = (
            select(Connector)
            .where(connector_table.c.charge_point_id == charge_point_id)
            .order_by(connector_table.c.connector_id)
        )
        return await page(self.session, query, window)

    async def configuration(self, charge_point_id: str, window: Window) -> Found[ChargePointConfiguration]:
        table = charge_point_configuration_table
        query = (
            select(ChargePointConfiguration)
            .where(table.c.charge_point_id == charge_point_id)
            .order_by(table.c.key)
        )
        return await page(self.session, query, window)

    async def status_history(
        self,
        charge_point_id: str,
        window: Window,
        *,
        connector_id: int | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> Found[StatusNotification]:
        table = status_notification_table
        when = func.coalesce(table.c.timestamp, table.c.received_at)
        query = (
            select(StatusNotification)
            .where(table.c.charge_point_id == charge_point_id)
            .order_by(when.desc(), table.c.id.desc())
        )
        if connector_id is not None:
            query = query.where(table.c.connector_id == connector_id)
        if since is not None:
            query = query.where(when >= since)
        if until is not None:
            query = query.where(when < until)
        return await page(self.session, query, window)

    async def boot_notifications(self, charge_point_id: str, window: Window) -> Found[BootNotification]:
        query = (
            select(BootNotification)
            .where(boot_notification_table.c.charge_point_id == charge_point_id)
            .order_by(boot_notification_table.c.id.desc())
        )
        return await page(self.session, query, window)

    async def list(self, window: Window, filters: ChargePointFilter) -> Found[ChargePoint]:
        table = charge_point_table.c
        query = select(ChargePoint).where(*in_scope(table.id, filters.scope)).order_by(table.id)
        if filters.search:
            query = query.where(
                or_(
                    table.id.icontains(filters.search, autoescape=True),
                    table.description.icontains(filters.search, autoescape=True),
                )
            )
        if filters.site_id is not None:
            query = query.where(table.site_id == filters.site_id)
        if filters.registration_status is not None:
            query = query.where(table.registration_status == filters.registration_status)
        if filters.connected is True:
            query = query.where(table.id.in_(filters.connected_ids))
        elif filters.connected is False:
            query = query.where(table.id.not_in(filters.connected_ids))
        return await page(self.session, query, window)
