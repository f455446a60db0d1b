"""MeterValues (every field, defaults, units, signed data, replays) and DataTransfer."""

from datetime import UTC, datetime, timedelta

import pytest
from ocpp.v16 import call
from sqlmodel import select

from app.db.tables.ocpp import data_transfer_table, meter_value_table
from app.domain.clock import as_utc
from app.domain.events import MeterValuesReceived
from app.domain.metering import normalise
from app.domain.ocpp import DataTransfer, MeterValue
from ocpp_gateway import OcppServer
from ocpp_gateway.wire import format_timestamp
from tests.gateway.helpers import EventLog, add_id_tag, connect_charge_point, eventually, running_gateway

pytestmark = pytest.mark.anyio

NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.mark.parametrize(
    ("value", "unit", "value_format", "expected"),
    [
        ("7.4", "kW", "Raw", (7400.0, "W")),
        ("12.5", "kWh", "Raw", (12500.0, "Wh")),
        ("16", "A", "Raw", (16.0, "A")),
        ("231.5", "V", "Raw", (231.5, "V")),
        ("1", "kvarh", "Raw", (1000.0, "varh")),
        ("21.5", "Celsius", "Raw", (21.5, "Celsius")),
        ("80", "Percent", "Raw", (80.0, "Percent")),
        ("AB12CD", "Wh", "SignedData", (None, None)),
        ("n/a", "Wh", "Raw", (None, None)),
    ],
)
def test_normalise(
    value: str, unit: str, value_format: str, expected: tuple[float | None, str | None]
) -> None:
    assert normalise(value, unit, value_format) == expected


async def test_every_field_stored_with_defaults_and_normalised(gateway: OcppServer) -> None:
    events = EventLog(gateway.bus)
    await add_id_tag(gateway, "TAG")
    async with connect_charge_point(gateway, "CP1") as cp:
        started = await cp.call(
            call.StartTransaction(
                connector_id=1, id_tag="TAG", meter_start=0, timestamp=format_timestamp(NOW)
            )
        )
        sampled = [
            {
                "value": "1234"
            },  # every default: Energy.Active.Import.Register, Wh, Outlet, Sample.Periodic, Raw
            {
                "value": "3.7",
                "context": "Sample.Clock",
                "format": "Raw",
                "measurand": "Power.Active.Import",
                "phase": "L1",
                "location": "Outlet",
                "unit": "kW",
            },
            {"value": "3.7", "measurand": "Power.Active.Import", "phase": "L2", "unit": "kW"},
            {"value": "16.2", "measurand": "Current.Import", "phase": "L1", "unit": "A"},
            {"value": "15.9", "measurand": "Current.Import", "phase": "L2", "unit": "A"},
            {"value": "35", "measurand": "Temperature", "location": "Body", "unit": "Celsius"},
            {"value": "55", "measurand": "SoC", "location": "EV", "unit": "Percent"},
            {"value": "3045022100AB", "format": "SignedData", "context": "Transaction.Begin"},
        ]
        await cp.call(
            call.MeterValues(
                connector_id=1,
                transaction_id=started.transaction_id,
                meter_value=[{"timestamp": format_timestamp(NOW), "sampledValue": sampled}],
            )
        )
    async with gateway.store.database.session() as session:
        rows = (await session.exec(select(MeterValue).order_by(meter_value_table.c.id))).all()
    assert len(rows) == len(sampled)
    first = rows[0]
    assert (first.measurand, first.unit, first.location, first.context, first.format, first.phase) == (
        "Energy.Active.Import.Register",
        "Wh",
        "Outlet",
        "Sample.Periodic",
        "Raw",
        None,
    )
    assert (first.value, first.value_normalised, first.unit_normalised) == ("1234", 1234.0, "Wh")
    assert first.transaction_id == started.transaction_id
    assert as_utc(first.timestamp) == NOW
    power = rows[1]
    assert (power.value, power.unit, power.value_normalised, power.unit_normalised) == (
        "3.7",
        "kW",
        3700.0,
        "W",
    )
    assert (power.context, power.phase) == ("Sample.Clock", "L1")
    assert (rows[5].value_normalised, rows[5].unit_normalised, rows[5].location) == (35.0, "Celsius", "Body")
    signed = rows[7]
    assert (signed.value, signed.format, signed.value_normalised, signed.unit_normalised) == (
        "3045022100AB",
        "SignedData",
        None,
        None,
    )
    assert all(row.source == "MeterValues" for row in rows)
    received = await eventually(lambda: events.of(MeterValuesReceived))
    sample = received[0].samples[0]
    assert received[0].transaction_id == started.transaction_id
    assert (sample.power_w, sample.energy_wh, sample.current_a, sample.soc_percent) == (
        7400.0,
        1234.0,
        16.2,
        55.0,
    )


async def test_replayed_meter_values_are_not_duplicated(gateway: OcppServer) -> None:
    message = call.MeterValues(
        connector_id=1,
        meter_value=[
            {"timestamp": format_timestamp(NOW - timedelta(minutes=m)), "sampledValue": [{"value": str(m)}]}
            for m in range(3)
        ],
    )
    async with connect_charge_point(gateway, "CP1") as cp:
        await cp.call(message)
        await cp.call(message)
        await cp.call(
            call.MeterValues(connector_id=1, transaction_id=-1, meter_value=message.meter_value)
        )  # -1: not a transaction of ours, the same samples
    async with gateway.store.database.session() as session:
        rows = (await session.exec(select(MeterValue))).all()
    assert len(rows) == 3
    assert all(row.transaction_id is None for row in rows)


async def test_data_transfer_is_stored_and_unknown_vendor_answered(migrated_url: str) -> None:
    async with (
        running_gateway(migrated_url, data_transfer_vendors=("com.acme",)) as gateway,
        connect_charge_point(gateway, "CP1") as cp,
    ):
        unknown = await cp.call(call.DataTransfer(vendor_id="org.other", message_id="Hello", data='{"x": 1}'))
        known = await cp.call(call.DataTransfer(vendor_id="com.acme", data="payload"))
        async with gateway.store.database.session() as session:
            rows = (await session.exec(select(DataTransfer).order_by(data_transfer_table.c.id))).all()
    assert (unknown.status, known.status) == ("UnknownVendorId", "Accepted")
    assert [(r.direction, r.vendor_id, r.message_id, r.data, r.status) for r in rows] == [
        ("inbound", "org.other", "Hello", '{"x": 1}', "UnknownVendorId"),
        ("inbound", "com.acme", None, "payload", "Accepted"),
    ]
