"""API keys as the admin sees them; the token itself appears once, in `ApiKeyCreated`."""

from pydantic import Field

from app.api.schemas.common import Input, RowId, Schema, UtcDatetime
from app.domain.enums import Role


class ApiKeyCreate(Input):
    role: Role
    name: str = Field(default="api key", min_length=1, max_length=100)
    site_ids: list[RowId] | None = Field(
        default=None, description="grid operators: the sites this key may read (none: all)"
    )


class ApiKeyOut(Schema):
    id: int
    name: str
    role: Role
    prefix: str = Field(description="first characters of the token, to recognise it")
    site_ids: list[int] | None
    created_at: UtcDatetime
    revoked_at: UtcDatetime | None


class ApiKeyCreated(ApiKeyOut):
    token: str = Field(description="the bearer token; shown only in this response, never stored")
