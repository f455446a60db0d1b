"""Forecasts as posted, their rows, and what covers a window."""

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import insert, select

from app.db.repositories.base import Repository, page
from app.db.tables.planning import forecast_interval_table, forecast_table
from app.domain.paging import Found, Window
from app.domain.planning import Forecast, ForecastInterval
from app.domain.repositories.planning import ForecastLimit, PostedRow


class SqlForecastRepository(Repository):
    async def add(self, forecast: Forecast) -> bool:
        try:
            async with self.session.begin_nested():
                self.session.add(forecast)
                await self.session.flush()
        except IntegrityError:
            return False
        return True

    async def add_rows(self, forecast: Forecast, rows: Sequence[PostedRow]) -> None:
        params = [
            {
                "forecast_pk": forecast.id,
                "site_id": forecast.site_id,
                "row": i,
                "start": r.start,
                "end": r.end,
                "limit_kw": r.limit_kw,
            }
            for i, r in enumerate(rows)
        ]
        await self.session.exec(insert(ForecastInterval), params=params)

    async def get(self, forecast_pk: int) -> Forecast | None:
        return await self.session.get(Forecast, forecast_pk)

    async def named(self, site_id: int, forecast_id: str) -> Forecast | None:
        return await self._first(
            forecast_table.c.site_id == site_id, forecast_table.c.forecast_id == forecast_id
        )

    async def issued(self, site_id: int, issued_at: datetime) -> Forecast | None:
        return await self._first(forecast_table.c.site_id == site_id, forecast_table.c.issued_at == issued_at)

    async def _first(self, *conditions: Any) -> Forecast | None:
        return (await self.session.exec(select(Forecast).where(*conditions))).first()

    async def rows(self, forecast_pk: int) -> list[ForecastInterval]:
        query = select(ForecastInterval).where(forecast_interval_table.c.forecast_pk == forecast_pk)
        return list((await self.session.exec(query.order_by(forecast_interval_table.c.row))).all())

    async def covering(
        self, site_id: int, start: datetime, end: datetime, *, as_of: datetime | None = None
    ) -> list[Forecast]:
        query = select(Forecast).where(
            forecast_table.c.site_id == site_id,
            forecast_table.c.ends_at > start,
            forecast_table.c.starts_at < end,
        )
        if as_of is not None:
            query = query.where(forecast_table.c.created_at <= as_of)
        return list((await self.session.exec(query)).all())

    async def limits(
        self, forecast_pks: Collection[int], start: datetime, end: datetime
    ) -> list[ForecastLimit]:
        if not forecast_pks:
            return []
        rows = forecast_interval_table.c
        query = select(rows.forecast_pk, rows.start, rows.end, rows.limit_kw).where(
            rows.forecast_pk.in_(list(forecast_pks)), rows.end > start, rows.start < end
        )
        return [ForecastLimit(*r) for r in (await self.session.exec(query)).all()]

    async def list(
        self,
        site_id: int,
        window: Window,
        *,
        forecast_id: str | None = None,
        issued_from: datetime | None = None,
        issued_to: datetime | None = None,
    ) -> Found[Forecast]:
        query = select(Forecast).where(forecast_table.c.site_id == site_id)
        if forecast_id is not None:
            query = query.where(forecast_table.c.forecast_id == forecast_id)
        if issued_from is not None:
            query = query.where(forecast_table.c.issued_at >= issued_from)
        if issued_to is not None:
            query = query.where(forecast_table.c.issued_at < issued_to)
        query = query.order_by(forecast_table.c.issued_at.desc(), forecast_table.c.id.desc())
        return await page(self.session, query, window)
