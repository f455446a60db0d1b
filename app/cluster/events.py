"""The event bus across processes: domain events published in one process reach the bus of another.

A gateway's events (connections, boots, status, transactions, meter values) and an API process's (forecasts,
overrides, placements, site settings) are sent to `{prefix}:events`; scheduler processes publish what
arrives on their own bus, where the scheduler hears it as it does in one process. Events are sent in
batches (what was published during one turn of the event loop, as one message), JSON-encoded from their
dataclass fields; a `MeterValuesReceived` carries its summarised samples.

Pub/sub delivers to the processes subscribed at the time: a scheduler that was down misses what happened
meanwhile and catches up on its interval ticks (it replans every site every interval).
"""

import asyncio
import dataclasses
import logging
import typing
from datetime import datetime
from typing import Any

from app.cluster.link import Message, RedisLink
from app.domain import events as domain_events
from app.domain.bus import EventBus
from app.domain.events import Event, MeterSample, MeterValuesReceived

log = logging.getLogger(__name__)

MAX_BATCH = 1000
EVENT_TYPES: dict[str, type[Any]] = {cls.__name__: cls for cls in typing.get_args(Event)}


def encode(event: Event) -> dict[str, Any]:
    if isinstance(event, MeterValuesReceived):
        fields: dict[str, Any] = {
            "charge_point_id": event.charge_point_id,
            "connector_id": event.connector_id,
            "transaction_id": event.transaction_id,
            "samples": [_plain(dataclasses.asdict(sample)) for sample in event.samples],
        }
    else:
        fields = _plain({f.name: getattr(event, f.name) for f in dataclasses.fields(event)})
    return {"type": type(event).__name__, "fields": fields}


def decode(data: dict[str, Any]) -> Event:
    cls = EVENT_TYPES[data["type"]]
    fields = dict(data["fields"])
    if cls is MeterValuesReceived:
        samples = tuple(MeterSample(**_typed(MeterSample, sample)) for sample in fields.pop("samples"))
        return MeterValuesReceived(**fields, summarise=lambda: samples)
    event: Event = cls(**_typed(cls, fields))
    return event


def _plain(values: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in values.items():
        if isinstance(value, datetime):
            value = value.isoformat()
        elif isinstance(value, frozenset | set):
            value = sorted(value)
        out[name] = value
    return out


def _typed(cls: type[Any], values: dict[str, Any]) -> dict[str, Any]:
    hints = typing.get_type_hints(cls, vars(domain_events))
    out = dict(values)
    for name, value in values.items():
        hint = hints.get(name)
        if value is None or hint is None:
            continue
        kinds = typing.get_args(hint) or (hint,)
        if datetime in kinds:
            out[name] = datetime.fromisoformat(value)
        elif typing.get_origin(hint) is frozenset:
            out[name] = frozenset(value)
    return out


class EventExport:
    """Sends what is published on this process's bus to the other processes."""

    def __init__(self, link: RedisLink, bus: EventBus) -> None:
        self._link = link
        self._channel = link.channel("events")
        self._pending: list[dict[str, Any]] = []
        self._flushing: asyncio.Task[None] | None = None
        self._unsubscribe = bus.subscribe(self._collect)

    def _collect(self, event: Event) -> None:
        self._pending.append(encode(event))
        if self._flushing is None or self._flushing.done():
            self._flushing = asyncio.get_running_loop().create_task(self._flush())

    async def _flush(self) -> None:
        await asyncio.sleep(0)  # what else is published in this turn joins the batch
        while self._pending:
            batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
            try:
                await self._link.publish(self._channel, {"events": batch})
            except Exception:
                log.exception("could not send %d events to the other processes", len(batch))

    async def close(self) -> None:
        self._unsubscribe()
        if self._flushing is not None:
            await asyncio.gather(self._flushing, return_exceptions=True)


class EventImport:
    """Publishes the other processes' events on this process's bus."""

    def __init__(self, link: RedisLink, bus: EventBus) -> None:
        self._bus = bus
        link.on(link.channel("events"), self._receive)

    def _receive(self, message: Message) -> None:
        for data in message.get("events", ()):
            try:
                event = decode(data)
            except Exception:
                log.exception("an event from another process could not be read: %.200r", data)
                continue
            self._bus.publish(event)
