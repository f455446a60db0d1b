"""Reservations made with ReserveNow."""

from app.api.schemas.common import Schema, UtcDatetime
from app.domain.enums import ReservationStatus


class ReservationOut(Schema):
    id: int
    charge_point_id: str
    connector_id: int
    id_tag: str
    parent_id_tag: str | None
    expiry_date: UtcDatetime
    status: ReservationStatus
    active: bool
    transaction_id: int | None
    command_id: int | None
    created_at: UtcDatetime
