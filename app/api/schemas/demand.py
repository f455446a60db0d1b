"""Session demand: departure and energy set for a transaction, and the demand in effect with its sources."""

from datetime import datetime

from pydantic import BaseModel, Field

from app.api.schemas.common import MinCurrent, Schema
from app.api.schemas.overrides import AwareUtc
from app.services.planning.demand import DemandSource


class DemandSet(BaseModel):
    """Replace the demand set for a transaction; a field left out falls back to the defaults."""

    departure: AwareUtc | None = None
    energy_kwh: float | None = Field(default=None, gt=0, allow_inf_nan=False)
    min_current_a: MinCurrent | None = Field(
        default=None, description="for this session only; else the connector's, charge point's or site's"
    )


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
    min_current_a: float | None = Field(description="set for this session (else the connector's, ...)")
    set_by: str | None
    set_at: datetime | None
