"""The status summary: what SteVe's home page counts."""

from pydantic import BaseModel, Field

from app.api.schemas.common import UtcDatetime


class HeartbeatCounts(BaseModel):
    """Charge points by the UTC day of their last heartbeat."""

    today: int
    yesterday: int
    earlier: int
    never: int


class StatusSummary(BaseModel):
    charge_points: int
    connected_charge_points: int
    pending_charge_points: int = Field(description="registered as Pending: waiting for an operator")
    id_tags: int | None = Field(description="null for grid-operator keys: drivers' tags are not theirs")
    active_transactions: int
    active_reservations: int
    connectors_by_status: dict[str, int] = Field(
        description="connectors (not connector 0) by last reported status; `Unknown` if none yet"
    )
    heartbeats: HeartbeatCounts
    generated_at: UtcDatetime
