"""BootNotification, Heartbeat, StatusNotification, Diagnostics/Firmware status, connection state."""

from datetime import UTC, datetime, timedelta

import pytest
from ocpp.v16 import call
from sqlmodel import select

from app.db.tables.ocpp import status_notification_table
from app.domain.clock import as_utc
from app.domain.events import ChargePointBooted, ChargePointConnected, ChargePointDisconnected, StatusChanged
from app.domain.ocpp import BootNotification, ChargePoint, ChargePointConfiguration, Command, Connector
from app.domain.ocpp import StatusNotification as StatusRow
from ocpp_gateway import OcppServer
from ocpp_gateway.wire import format_timestamp
from tests.gateway.helpers import EventLog, connect_charge_point, eventually, register_charge_point

pytestmark = pytest.mark.anyio

BOOT = call.BootNotification(
    charge_point_vendor="Acme",
    charge_point_model="Wallbox 22",
    charge_point_serial_number="CP-SN-1",
    charge_box_serial_number="BOX-1",
    firmware_version="1.2.3",
    iccid="8931",
    imsi="2620",
    meter_type="EM-1",
    meter_serial_number="M-1",
)


async def test_boot_stores_every_field_and_reads_configuration(gateway: OcppServer) -> None:
    events = EventLog(gateway.bus)
    async with connect_charge_point(gateway, "CP1") as cp:
        result = await cp.call(BOOT)
        assert result.status == "Accepted"
        assert result.interval == gateway.settings.heartbeat_interval_s
        await cp.wait_for_call("GetConfiguration")

        async def configuration_stored() -> dict[str, str | None]:
            async with gateway.store.database.session() as session:
                rows = (await session.exec(select(ChargePointConfiguration))).all()
            return {row.key: row.value for row in rows}

        config = await eventually(configuration_stored)
        assert config["ChargingScheduleAllowedChargingRateUnit"] == "Current,Power"
        assert config["ChargingScheduleMaxPeriods"] == "24"
        assert config["NumberOfConnectors"] == "2"
        assert config["MeterValueSampleInterval"] == "60"
    async with gateway.store.database.session() as session:
        row = await session.get(ChargePoint, "CP1")
        boots = (await session.exec(select(BootNotification))).all()
        commands = (await session.exec(select(Command))).all()
    assert row is not None
    assert (row.vendor, row.model, row.serial_number, row.box_serial_number) == (
        "Acme",
        "Wallbox 22",
        "CP-SN-1",
        "BOX-1",
    )
    assert (row.firmware_version, row.iccid, row.imsi, row.meter_type, row.meter_serial_number) == (
        "1.2.3",
        "8931",
        "2620",
        "EM-1",
        "M-1",
    )
    assert row.last_boot_at is not None
    assert len(boots) == 1
    assert boots[0].payload["chargePointVendor"] == "Acme"
    assert boots[0].status == "Accepted"
    assert [(c.action, c.status, c.author) for c in commands] == [("GetConfiguration", "accepted", "gateway")]
    await eventually(lambda: events.of(ChargePointDisconnected))
    assert events.of(ChargePointConnected)[0].charge_point_id == "CP1"
    assert events.of(ChargePointBooted)[0].vendor == "Acme"


@pytest.mark.parametrize("status", ["Pending", "Rejected"])
async def test_boot_answers_the_registration_status(gateway: OcppServer, status: str) -> None:
    await register_charge_point(gateway, "CP2", status=status)
    async with connect_charge_point(gateway, "CP2") as cp:
        result = await cp.call(BOOT)
    assert result.status == status
    assert result.interval <= 60
    assert not [action for action, _ in cp.received]  # no GetConfiguration unless accepted


async def test_heartbeat_answers_current_time_and_is_recorded(gateway: OcppServer) -> None:
    async with connect_charge_point(gateway, "CP1") as cp:
        before = datetime.now(UTC)
        result = await cp.call(call.Heartbeat())
        async with gateway.store.database.session() as session:
            row = await session.get(ChargePoint, "CP1")
    answered = datetime.fromisoformat(result.current_time)
    assert before - timedelta(seconds=1) <= answered <= datetime.now(UTC) + timedelta(seconds=1)
    assert row is not None
    assert row.last_heartbeat_at is not None
    assert row.connected
    assert row.connected_since is not None


async def test_connection_state_is_tracked(gateway: OcppServer) -> None:
    async with connect_charge_point(gateway, "CP1") as cp:
        await cp.call(call.Heartbeat())
        assert gateway.commands.is_connected("CP1")
        assert gateway.commands.connected_ids() == {"CP1"}
    await eventually(lambda: not gateway.commands.is_connected("CP1"))

    async def disconnected() -> bool:
        async with gateway.store.database.session() as session:
            row = await session.get(ChargePoint, "CP1")
        return row is not None and not row.connected and row.connected_since is None

    assert await eventually(disconnected)


async def test_status_history_and_live_state_connector_zero_too(gateway: OcppServer) -> None:
    events = EventLog(gateway.bus)
    now = datetime.now(UTC).replace(microsecond=0)
    async with connect_charge_point(gateway, "CP1") as cp:
        await cp.call(call.StatusNotification(connector_id=0, error_code="NoError", status="Available"))
        await cp.call(
            call.StatusNotification(
                connector_id=1,
                error_code="OtherError",
                status="Faulted",
                info="ground fault",
                vendor_id="acme",
                vendor_error_code="E42",
                timestamp=format_timestamp(now),
            )
        )
    async with gateway.store.database.session() as session:
        history = (await session.exec(select(StatusRow).order_by(status_notification_table.c.id))).all()
        connectors = {c.connector_id: c for c in (await session.exec(select(Connector))).all()}
    assert [(h.connector_id, h.status, h.error_code) for h in history] == [
        (0, "Available", "NoError"),
        (1, "Faulted", "OtherError"),
    ]
    assert (history[1].info, history[1].vendor_id, history[1].vendor_error_code) == (
        "ground fault",
        "acme",
        "E42",
    )
    assert connectors[0].status == "Available"
    assert connectors[1].status == "Faulted"
    assert connectors[1].vendor_error_code == "E42"
    assert as_utc(connectors[1].status_at) == now  # type: ignore[arg-type]
    await eventually(lambda: len(events.of(StatusChanged)) == 2)


async def test_queued_old_status_does_not_overwrite_newer(gateway: OcppServer) -> None:
    newer = datetime.now(UTC).replace(microsecond=0)
    older = newer - timedelta(minutes=10)
    async with connect_charge_point(gateway, "CP1") as cp:
        await cp.call(
            call.StatusNotification(
                connector_id=1, error_code="NoError", status="Charging", timestamp=format_timestamp(newer)
            )
        )
        await cp.call(
            call.StatusNotification(
                connector_id=1, error_code="NoError", status="Preparing", timestamp=format_timestamp(older)
            )
        )
    async with gateway.store.database.session() as session:
        history = (await session.exec(select(StatusRow).order_by(status_notification_table.c.id))).all()
        connector = (await session.exec(select(Connector))).one()
    assert [h.status for h in history] == ["Charging", "Preparing"]
    assert [as_utc(h.timestamp) for h in history if h.timestamp] == [newer, older]
    assert connector.status == "Charging"


async def test_diagnostics_and_firmware_status_are_stored(gateway: OcppServer) -> None:
    async with connect_charge_point(gateway, "CP1") as cp:
        await cp.call(call.DiagnosticsStatusNotification(status="Uploaded"))
        await cp.call(call.FirmwareStatusNotification(status="Installing"))
    async with gateway.store.database.session() as session:
        row = await session.get(ChargePoint, "CP1")
    assert row is not None
    assert (row.diagnostics_status, row.firmware_status) == ("Uploaded", "Installing")
    assert row.diagnostics_status_at is not None
    assert row.firmware_status_at is not None


async def test_status_from_a_fast_clock_does_not_block_later_reports(gateway: OcppServer) -> None:
    future = datetime.now(UTC) + timedelta(days=1)
    async with connect_charge_point(gateway, "CP1") as cp:
        await cp.call(
            call.StatusNotification(
                connector_id=1, error_code="NoError", status="Charging", timestamp=format_timestamp(future)
            )
        )
        await cp.call(
            call.StatusNotification(
                connector_id=1,
                error_code="NoError",
                status="Finishing",
                timestamp=format_timestamp(datetime.now(UTC) + timedelta(seconds=1)),
            )
        )
    async with gateway.store.database.session() as session:
        connector = (await session.exec(select(Connector))).one()
        history = (await session.exec(select(StatusRow))).all()
    assert connector.status == "Finishing"
    assert as_utc(max(h.timestamp for h in history if h.timestamp)) == future.replace(
        microsecond=future.microsecond // 1000 * 1000
    )
