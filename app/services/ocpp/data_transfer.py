"""DataTransfer: every message stored, inbound and outbound.

smartcharge implements no vendor extensions, so an inbound DataTransfer is answered `UnknownVendorId`
unless its vendorId is one the gateway was configured to accept (`OcppServer(data_transfer_vendors=…)`);
for those it is stored and answered `Accepted`. Either way nothing the charge point sent is lost.
"""

from collections.abc import Collection
from datetime import datetime

from app.domain.ocpp import DataTransfer
from app.domain.persistence import Store, UnitOfWork


async def receive(
    store: Store,
    charge_point_id: str,
    *,
    vendor_id: str,
    message_id: str | None,
    data: str | None,
    known_vendors: Collection[str],
    now: datetime,
) -> str:
    """Store an inbound DataTransfer in the group commit; the status to answer."""
    status = "Accepted" if vendor_id in known_vendors else "UnknownVendorId"

    async def record(uow: UnitOfWork) -> None:  # a unit run again (its batch failed) adds a new row
        uow.data_transfers.add(
            DataTransfer(
                charge_point_id=charge_point_id,
                direction="inbound",
                vendor_id=vendor_id,
                message_id=message_id,
                data=data,
                status=status,
                received_at=now,
            )
        )

    await store.run(record)
    return status


def record_outbound(
    uow: UnitOfWork,
    charge_point_id: str,
    *,
    vendor_id: str,
    message_id: str | None,
    data: str | None,
    status: str | None,
    now: datetime,
) -> None:
    uow.data_transfers.add(
        DataTransfer(
            charge_point_id=charge_point_id,
            direction="outbound",
            vendor_id=vendor_id,
            message_id=message_id,
            data=data,
            status=status,
            received_at=now,
        )
    )
