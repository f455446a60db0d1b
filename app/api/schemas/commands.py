"""Central-system operations sent to a charge point, and their outcome."""

from typing import Any

from pydantic import Field

from app.api.schemas.common import Input, Schema, UtcDatetime
from app.domain.enums import CommandStatus


class CommandCreate(Input):
    action: str = Field(
        min_length=1,
        max_length=40,
        description="an OCPP 1.6 central-system operation, e.g. Reset, RemoteStartTransaction, ReserveNow",
        examples=["ReserveNow"],
    )
    payload: dict[str, Any] = Field(
        default_factory=dict,
        description="the operation's OCPP request payload, with OCPP's own (camelCase) field names",
        examples=[
            {"connectorId": 1, "expiryDate": "2030-01-01T12:00:00Z", "idTag": "TAG1", "reservationId": 1}
        ],
    )


class CommandOut(Schema):
    id: int
    charge_point_id: str
    action: str
    payload: dict[str, Any]
    status: CommandStatus
    response: dict[str, Any] | None = Field(description="the charge point's CALLRESULT payload")
    error_code: str | None = Field(description="CALLERROR code, or why sending failed")
    error_description: str | None
    author: str | None = Field(description="name of the API key that sent it")
    created_at: UtcDatetime
    sent_at: UtcDatetime | None = Field(description="when the CALL went out (set before the answer comes)")
    completed_at: UtcDatetime | None
