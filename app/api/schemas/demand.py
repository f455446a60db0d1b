"""Session demand: departure and energy set for a transaction, and the demand in effect with its sources."""

from datetime import datetime

from pydantic import BaseModel, Field

from app.api.schemas.common import Schema
from app.api.schemas.overrides import AwareUtc
from app.services.planning.demand import DemandSource


class DemandSet(BaseModel):
    """Replace the demand set for a transaction; a field left out falls back to the defaults."""

    departure: AwareUtc | None = None
    energy_kwh: float | None = Field(default=None, gt=0, allow_inf_nan=False)


class DemandOut(Schema):
    transaction_id: int
    charge_point_id: str
    connector_id: int
    site_id: int | None
    id_tag: str
    started_at: datetime
    departure: datetime | None
    departure_source: DemandSource
    energy_kwh: float | None
    energy_source: DemandSource
    history_sessions: int = Field(description="completed sessions of the tag the estimate looked at")
    set_by: str | None
    set_at: datetime | None
