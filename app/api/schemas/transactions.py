"""Charging transactions and the meter values recorded for them."""

from pydantic import Field

from app.api.schemas.common import Schema, UtcDatetime


class MeterValueOut(Schema):
    id: int
    charge_point_id: str
    connector_id: int
    transaction_id: int | None
    timestamp: UtcDatetime
    measurand: str
    phase: str | None
    location: str
    context: str
    format: str
    unit: str
    value: str = Field(description="as received (SignedData for signed values)")
    value_normalised: float | None = Field(description="in W, Wh, A or V (see unit_normalised)")
    unit_normalised: str | None
    source: str


class TransactionOut(Schema):
    id: int
    charge_point_id: str
    connector_id: int
    id_tag: str | None = Field(description="null for grid-operator keys: drivers' id tags are not theirs")
    id_tag_status: str
    reservation_id: int | None
    start_timestamp: UtcDatetime
    stop_timestamp: UtcDatetime | None
    meter_start_wh: int
    meter_stop_wh: int | None
    stop_reason: str | None
    stop_id_tag: str | None = Field(description="null also for grid-operator keys")
    active: bool
    energy_wh: float | None = Field(
        description="meterStop − meterStart; while active, the latest Energy.Active.Import.Register"
        " − meterStart; null while no register value is known"
    )


class TransactionDetail(TransactionOut):
    meter_values: list[MeterValueOut]
