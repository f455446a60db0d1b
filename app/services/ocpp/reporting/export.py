"""Streaming exports (CSV): every matching row by id, read in batches, a short unit of work each, so that
no connection is held while the rows are sent."""

from collections.abc import AsyncIterator

from app.domain.ocpp import MeterValue
from app.domain.persistence import Store
from app.domain.queries import MeterValueFilter, TransactionFilter
from app.services.ocpp.reporting.transactions import TransactionView, with_energy

CSV_BATCH = 1000


async def iter_transactions(store: Store, filters: TransactionFilter) -> AsyncIterator[TransactionView]:
    after = 0
    while True:
        async with store.unit_of_work() as uow:
            batch = await uow.transactions.after(filters, after, CSV_BATCH)
            views = await with_energy(uow, batch)
        for view in views:
            yield view
        if len(batch) < CSV_BATCH:
            return
        after = batch[-1].id or 0


async def iter_meter_values(store: Store, filters: MeterValueFilter) -> AsyncIterator[MeterValue]:
    after = 0
    while True:
        async with store.unit_of_work() as uow:
            batch = await uow.meter_values.after(filters, after, CSV_BATCH)
        for value in batch:
            yield value
        if len(batch) < CSV_BATCH:
            return
        after = batch[-1].id or 0
