"""Sites and their groups, the charge points assigned to them, and the power those reported."""

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from app.db.repositories.base import Repository
from app.db.tables.ocpp import charge_point_table, connector_table, meter_value_table
from app.db.tables.planning import forecast_interval_table, forecast_table, site_group_table, site_table
from app.domain.ocpp import ChargePoint, Connector
from app.domain.planning import Forecast, ForecastInterval, Site, SiteGroup
from app.domain.repositories.planning import PowerSample

ACTIVE_POWER = "Power.Active.Import"


class SqlSiteRepository(Repository):
    def add(self, site: Site) -> None:
        self.session.add(site)

    async def get(self, site_id: int) -> Site | None:
        return await self.session.get(Site, site_id)

    async def named(self, name: str) -> Site | None:
        return (await self.session.exec(select(Site).where(site_table.c.name == name))).first()

    async def member_counts(self, site_id: int) -> tuple[int, int]:
        groups = await _count(self, site_group_table.c.site_id == site_id)
        return groups, await _count(self, charge_point_table.c.site_id == site_id)

    async def delete(self, site: Site) -> bool:
        try:
            async with self.session.begin_nested():
                await self.session.exec(
                    delete(ForecastInterval).where(forecast_interval_table.c.site_id == site.id)
                )
                await self.session.exec(delete(Forecast).where(forecast_table.c.site_id == site.id))
                await self.session.delete(site)
                await self.session.flush()
        except IntegrityError:
            return False
        return True

    async def charge_points(self, site_id: int, group_id: int | None = None) -> list[ChargePoint]:
        query = select(ChargePoint).where(charge_point_table.c.site_id == site_id)
        if group_id is not None:
            query = query.where(charge_point_table.c.group_id == group_id)
        return list((await self.session.exec(query.order_by(charge_point_table.c.id))).all())

    async def connectors(self, charge_point_ids: Collection[str]) -> list[Connector]:
        if not charge_point_ids:
            return []
        query = (
            select(Connector)
            .where(
                connector_table.c.charge_point_id.in_(list(charge_point_ids)),
                connector_table.c.connector_id > 0,
            )
            .order_by(connector_table.c.charge_point_id, connector_table.c.connector_id)
        )
        return list((await self.session.exec(query)).all())

    async def power_samples(self, site_id: int, start: datetime, end: datetime) -> list[PowerSample]:
        site_cps = select(charge_point_table.c.id).where(charge_point_table.c.site_id == site_id)
        query = select(
            meter_value_table.c.transaction_id,
            meter_value_table.c.timestamp,
            meter_value_table.c.value_normalised,
        ).where(
            meter_value_table.c.charge_point_id.in_(site_cps),
            meter_value_table.c.measurand == ACTIVE_POWER,
            meter_value_table.c.phase.is_(None),
            meter_value_table.c.value_normalised.is_not(None),
            meter_value_table.c.timestamp >= start,
            meter_value_table.c.timestamp < end,
        )
        return [PowerSample(tx, at, watts) for tx, at, watts in (await self.session.exec(query)).all()]

    async def list(self, site_ids: Collection[int] | None = None) -> list[Site]:
        query = select(Site).order_by(site_table.c.id)
        if site_ids is not None:
            query = query.where(site_table.c.id.in_(list(site_ids)))
        return list((await self.session.exec(query)).all())


class SqlGroupRepository(Repository):
    def add(self, group: SiteGroup) -> None:
        self.session.add(group)

    async def get(self, group_id: int) -> SiteGroup | None:
        return await self.session.get(SiteGroup, group_id)

    async def named(self, site_id: int, name: str) -> SiteGroup | None:
        query = select(SiteGroup).where(
            site_group_table.c.site_id == site_id, site_group_table.c.name == name
        )
        return (await self.session.exec(query)).first()

    async def member_counts(self, group_id: int) -> tuple[int, int]:
        children = await _count(self, site_group_table.c.parent_id == group_id)
        return children, await _count(self, charge_point_table.c.group_id == group_id)

    async def delete(self, group: SiteGroup) -> None:
        await self.session.delete(group)

    async def list(self, site_id: int) -> list[SiteGroup]:
        query = select(SiteGroup).where(site_group_table.c.site_id == site_id).order_by(site_group_table.c.id)
        return list((await self.session.exec(query)).all())


async def _count(repository: Repository, condition: Any) -> int:
    count: int = (await repository.session.exec(select(func.count()).where(condition))).one()
    return count
