"""Capacity forecasts: posted (JSON; CSV is read by the service), read back as posted, resampled and
effective per site interval."""

from datetime import datetime

from pydantic import BaseModel, Field

from app.api.schemas.common import Schema


class ForecastIntervalIn(BaseModel):
    start: datetime = Field(description="ISO 8601 with an offset")
    end: datetime
    limit_kw: float = Field(ge=0)


class ForecastIn(BaseModel):
    """A forecast; a bare JSON list of intervals or `text/csv` (columns start,end,limit_kw) also work."""

    forecast_id: str | None = Field(default=None, max_length=100, description="idempotency key")
    issued_at: datetime | None = Field(default=None, description="idempotency key without forecast_id")
    intervals: list[ForecastIntervalIn]


class ForecastOut(Schema):
    id: int
    site_id: int
    forecast_id: str | None
    issued_at: datetime
    source: str = Field(description="json or csv")
    author: str | None
    created_at: datetime
    starts_at: datetime
    ends_at: datetime
    interval_count: int


class ForecastIntervalOut(Schema):
    start: datetime
    end: datetime
    limit_kw: float


class ResampledIntervalOut(BaseModel):
    start: datetime
    end: datetime
    limit_kw: float = Field(description="minimum of the posted rows overlapping the interval")
    covered: float = Field(description="fraction of the interval the forecast covers")


class ForecastDetail(ForecastOut):
    interval_minutes: int
    intervals: list[ForecastIntervalOut] = Field(description="as posted")
    resampled: list[ResampledIntervalOut] = Field(description="on the site's interval grid")


class ForecastRef(BaseModel):
    id: int
    forecast_id: str | None
    issued_at: datetime


class EffectiveIntervalOut(BaseModel):
    start: datetime
    end: datetime
    limit_kw: float = Field(description="forecast (or fallback) limit for the interval")
    capacity_kw: float = Field(description="what may be planned: min(limit, grid limit) − margin")
    source: str = Field(description="forecast or fallback")
    forecast: ForecastRef | None
    lowered_by: list[int] = Field(description="more recent forecasts covering part of it, lowering it")


class EffectiveForecastOut(BaseModel):
    site_id: int
    interval_minutes: int
    grid_connection_limit_kw: float
    fallback_limit_kw: float
    safety_margin_kw: float
    intervals: list[EffectiveIntervalOut]
