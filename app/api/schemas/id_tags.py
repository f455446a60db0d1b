"""Id tags (RFID cards and other tokens) that may authorise charging."""

from pydantic import Field, field_validator

from app.api.schemas.common import Input, RowId, Schema, UtcDatetime, not_null


class IdTagCreate(Input):
    id_tag: str = Field(min_length=1, max_length=20, description="OCPP idToken (CiString20)")
    parent_id_tag: str | None = Field(default=None, min_length=1, max_length=20)
    expiry_date: UtcDatetime | None = None
    blocked: bool = False
    max_active_transactions: int = Field(default=1, ge=0, le=1000)
    note: str | None = Field(default=None, max_length=500)
    driver_id: RowId | None = Field(default=None, description="the driver (person) who owns the tag")


class IdTagUpdate(Input):
    parent_id_tag: str | None = Field(default=None, min_length=1, max_length=20)
    expiry_date: UtcDatetime | None = None
    blocked: bool | None = None
    max_active_transactions: int | None = Field(default=None, ge=0, le=1000)
    note: str | None = Field(default=None, max_length=500)
    driver_id: RowId | None = Field(default=None, description="its owner; null: nobody")

    _present = field_validator("blocked", "max_active_transactions", mode="before")(not_null)


class IdTagOut(Schema):
    id_tag: str
    parent_id_tag: str | None
    expiry_date: UtcDatetime | None
    blocked: bool
    max_active_transactions: int
    note: str | None
    driver_id: int | None
    created_at: UtcDatetime
    expired: bool
    active_transactions: int
