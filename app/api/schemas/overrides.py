"""Operator overrides and their audit trail."""

from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BaseModel, Field, field_validator

from app.api.schemas.common import ColumnInt, RowId, Schema, as_utc, not_null
from app.domain.planning import OverrideKind, OverrideScope

AwareUtc = Annotated[AwareDatetime, AfterValidator(as_utc)]


class OverrideCreate(BaseModel):
    """Scope target: `site_id`, `group_id`, `charge_point_id` (+ `connector_id`) or `transaction_id`."""

    scope: OverrideScope
    kind: OverrideKind
    value: float | None = Field(
        default=None, allow_inf_nan=False, description="kW (cap_kw, fixed_kw) or priority; none for pause"
    )
    site_id: RowId | None = None
    group_id: RowId | None = None
    charge_point_id: str | None = Field(default=None, max_length=48)
    connector_id: ColumnInt | None = None
    transaction_id: RowId | None = None
    valid_from: AwareUtc | None = Field(default=None, description="default: now")
    valid_until: AwareUtc | None = Field(default=None, description="null: until deleted")
    reason: str = Field(min_length=1, max_length=500)


class OverrideUpdate(BaseModel):
    """Change the value, end the override earlier or later (null: open-ended), or correct the reason."""

    value: float | None = Field(default=None, allow_inf_nan=False)
    valid_until: AwareUtc | None = None
    reason: str | None = Field(default=None, min_length=1, max_length=500)

    _present = field_validator("reason", mode="before")(not_null)


class OverrideOut(Schema):
    id: int
    scope: OverrideScope
    kind: OverrideKind
    value: float | None
    site_id: int | None
    group_id: int | None
    charge_point_id: str | None
    connector_id: int | None
    transaction_id: int | None
    valid_from: datetime
    valid_until: datetime | None
    reason: str
    author: str | None
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None
    deleted_by: str | None
    status: str = Field(description="scheduled, active, expired or deleted (now)")


class OverrideAuditOut(Schema):
    id: int
    override_id: int
    action: str
    author: str | None
    at: datetime
    snapshot: dict[str, Any]
