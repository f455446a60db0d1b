"""A charge point's connection and what it reports about itself: handshake credentials, connect and
disconnect, boot, heartbeat, status, diagnostics and firmware status; its stored configuration.

The hot paths are batched writes that join the group commit; each returns once its write committed, and
its event is published then.
"""

from datetime import datetime

from app.domain.bus import EventBus
from app.domain.enums import RegistrationStatus
from app.domain.events import ChargePointBooted, ChargePointConnected, ChargePointDisconnected, StatusChanged
from app.domain.messages import Boot, Credentials, StatusReport
from app.domain.persistence import Store, UnitOfWork


async def credentials(store: Store, charge_point_id: str) -> Credentials | None:
    """What the handshake checks; None for an unknown charge point."""
    return await store.batched.credentials(charge_point_id)


async def admit(store: Store, charge_point_id: str, status: RegistrationStatus, now: datetime) -> None:
    """Register an unknown charge point that connects, unless it exists (safe when many connects race)."""

    async def ensure(uow: UnitOfWork) -> None:
        await uow.charge_points.add_if_absent(charge_point_id, status.value, now)

    await store.run(ensure)


async def connected(store: Store, bus: EventBus, charge_point_id: str, now: datetime) -> None:
    await store.batched.set_connected(charge_point_id, True, now)
    bus.publish(ChargePointConnected(charge_point_id, now))


async def disconnected(store: Store, bus: EventBus, charge_point_id: str, now: datetime) -> None:
    await store.batched.set_connected(charge_point_id, False, now)
    bus.publish(ChargePointDisconnected(charge_point_id, now))


async def seen(store: Store, charge_point_id: str, now: datetime) -> None:
    await store.batched.touch(charge_point_id, now)


async def boot(store: Store, bus: EventBus, notification: Boot) -> RegistrationStatus:
    """Store a BootNotification; the registration status to answer (Rejected for an unknown charge point)."""
    status = await store.batched.record_boot(notification)
    payload = notification.payload
    bus.publish(
        ChargePointBooted(
            notification.charge_point_id,
            status.value,
            payload["chargePointVendor"],
            payload["chargePointModel"],
            notification.now,
        )
    )
    return status


async def heartbeat(store: Store, charge_point_id: str, now: datetime) -> None:
    await store.batched.record_heartbeat(charge_point_id, now)


async def report_status(
    store: Store, bus: EventBus, charge_point_id: str, report: StatusReport, now: datetime
) -> None:
    """Store a StatusNotification; announce it when it changed the connector's live status (an older report
    arriving late only lands in the history)."""
    if await store.batched.record_status(charge_point_id, report, now):
        bus.publish(StatusChanged(charge_point_id, report.connector_id, report.status, report.timestamp))


async def diagnostics_status(store: Store, charge_point_id: str, status: str, now: datetime) -> None:
    async def record(uow: UnitOfWork) -> None:
        await uow.charge_points.record_diagnostics_status(charge_point_id, status, now)

    await store.run(record)


async def firmware_status(store: Store, charge_point_id: str, status: str, now: datetime) -> None:
    async def record(uow: UnitOfWork) -> None:
        await uow.charge_points.record_firmware_status(charge_point_id, status, now)

    await store.run(record)


async def configuration_of(store: Store, charge_point_id: str) -> dict[str, str | None]:
    """The charge point's configuration keys as last read or set (batched with other callers' reads)."""
    return await store.batched.configuration(charge_point_id)


async def gateway_started(uow: UnitOfWork, now: datetime) -> None:
    """At the start of the (one) gateway process nobody is connected yet (a crash may have left some marked
    connected) and the commands left pending will never be answered."""
    await uow.charge_points.mark_all_disconnected()
    await uow.commands.fail_pending(now)


async def holders_lost(store: Store, charge_point_ids: list[str], now: datetime) -> None:
    """Scale-out: the gateway holding these charge points stopped renewing its lease. They are disconnected
    (until they connect to another gateway) and the commands it was running for them will not be answered.
    One that a live gateway holds again by the time this is written (it reconnected while the lease ran out)
    stays connected: what the new gateway wrote is newer than this news."""
    async with store.unit_of_work() as uow:
        await uow.commands.fail_pending(now, charge_point_ids)
        for cp_id in await uow.charge_points.disconnect_unheld(charge_point_ids, now):
            uow.record(ChargePointDisconnected(cp_id, now))  # published once committed
