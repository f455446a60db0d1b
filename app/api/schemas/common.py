"""Shapes shared by every resource: UTC timestamps, pages, problems."""

from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from annotated_types import Interval
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from app.domain.clock import as_utc as as_utc  # re-exported for the schemas

T = TypeVar("T")

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
# Ids and other integers stored in the database's integer columns (32-bit on PostgreSQL): anything larger
# is refused as invalid input, never sent to the database.
INT32_MAX = 2**31 - 1
MAX_OFFSET = INT32_MAX

RowId = Annotated[int, Interval(ge=1, le=INT32_MAX)]
ColumnInt = Annotated[int, Interval(ge=0, le=INT32_MAX)]


UtcDatetime = Annotated[datetime, AfterValidator(as_utc)]
MinCurrent = Annotated[
    float,
    Field(
        ge=0,
        le=80,
        allow_inf_nan=False,
        description="minimum charging current, A per phase: every limit sent is 0 or at least this "
        "(below 6 A an EV does not charge, IEC 61851)",
    ),
]


def not_null(value: Any) -> Any:
    """A `mode="before"` validator for PATCH fields that may be omitted but not set to null."""
    if value is None:
        raise ValueError("may be omitted but not null")
    return value


class Schema(BaseModel):
    """A response shape, read from table rows."""

    model_config = ConfigDict(from_attributes=True)


class Input(BaseModel):
    """A request body: unknown fields are refused (a misspelt PATCH field must not pass silently)."""

    model_config = ConfigDict(extra="forbid")


class Page(BaseModel, Generic[T]):
    """One page of a list: `items`, the `total` number matching the filters, and the window used."""

    items: list[T]
    total: int = Field(description="number of items matching the filters, over all pages")
    limit: int
    offset: int


class ProblemDetail(BaseModel):
    """RFC 9457 problem details; validation problems add `errors`, each naming the field (`loc`)."""

    type: str = "about:blank"
    title: str
    status: int
    detail: Any = None
    instance: str | None = None
    errors: list[dict[str, Any]] | None = None


PROBLEM_TEXT = {
    400: "the body could not be read (not UTF-8)",
    401: "missing, unknown or revoked API key",
    403: "the key's role may not do this",
    404: "not found",
    409: "conflicts with the current state",
    413: "the request body is too large",
    415: "unsupported media type",
    422: "invalid input; `errors[].loc` names the field",
    503: "a dependency (the database) is unavailable",
}


def problems(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for error codes, all `application/problem+json`."""
    return {
        code: {
            "model": ProblemDetail,
            "description": PROBLEM_TEXT[code],
            "content": {
                "application/problem+json": {"schema": {"$ref": "#/components/schemas/ProblemDetail"}}
            },
        }
        for code in codes
    }


class Health(BaseModel):
    status: str = Field(examples=["ok"])
    database: str = Field(examples=["ok"])
    connected_charge_points: int
