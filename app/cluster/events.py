"""The event bus across processes: domain events published in one process reach the bus of another.

A gateway's events (connections, boots, status, transactions, meter values) and an API process's (forecasts,
overrides, placements, site settings) are appended to the Redis stream `{prefix}:events` (about the latest
`SMARTCHARGE_EVENT_STREAM_MAX_LEN` entries are kept); a scheduler process reads it in a consumer group of its
own (`SMARTCHARGE_SCHEDULER_NAME`) and publishes what it reads on its own bus, where the scheduler hears it as
it does in one process, and acknowledges an entry once the scheduler has taken it in. Events are sent in
batches (what was published during one turn of the event loop, as one entry), JSON-encoded from their
dataclass fields; a `MeterValuesReceived` carries its summarised samples.

Redis keeps the group's position: a scheduler that was down reads what it missed when it starts again, and
what it had read but not acknowledged (it died meanwhile) first. While Redis does not answer, a sender keeps
its events (up to `MAX_HELD`) and sends them when it is back.
"""

import asyncio
import contextlib
import dataclasses
import logging
import typing
from datetime import datetime
from typing import Any

import orjson
from redis.exceptions import ResponseError

from app.cluster.link import FAILURES, RECONNECT_DELAY_S, RedisLink
from app.domain import events as domain_events
from app.domain.bus import EventBus
from app.domain.events import Event, MeterSample, MeterValuesReceived
from app.services.errors import Unavailable

log = logging.getLogger(__name__)

MAX_BATCH = 1000  # events per stream entry
MAX_HELD = 100_000  # events a sender keeps while Redis does not answer (the oldest are dropped beyond)
READ_COUNT = 100  # entries per read
BLOCK_MS = 1000
CLOSE_TIMEOUT_S = 5.0
Entry = tuple[bytes, dict[bytes, bytes] | None]  # a stream entry's id and fields (None: trimmed)
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


def events_stream(link: RedisLink) -> str:
    return link.channel("events")


class EventExport:
    """Sends what is published on this process's bus to the other processes."""

    def __init__(self, link: RedisLink, bus: EventBus, *, max_len: int) -> None:
        self._link = link
        self._stream = events_stream(link)
        self._max_len = max_len
        self._pending: list[dict[str, Any]] = []
        self._flushing: asyncio.Task[None] | None = None
        self._unsubscribe = bus.subscribe(self._collect)

    def _collect(self, event: Event) -> None:
        self._pending.append(encode(event))
        if self._flushing is None or self._flushing.done():
            self._flushing = asyncio.get_running_loop().create_task(self._flush())

    async def _flush(self) -> None:
        await asyncio.sleep(0)  # what else is published in this turn joins the batch
        failing = False
        while self._pending:
            batch = self._pending[:MAX_BATCH]
            try:
                await self._link.append(self._stream, {"events": batch}, max_len=self._max_len)
            except Unavailable as error:
                if not failing:
                    log.warning("%s; %d events held until it answers", error.detail, len(self._pending))
                failing = True
                self._hold()
                await asyncio.sleep(RECONNECT_DELAY_S)
                continue
            del self._pending[: len(batch)]  # what was published meanwhile was appended behind
            if failing:
                log.warning("Redis answers again: held events sent")
                failing = False

    def _hold(self) -> None:
        dropped = len(self._pending) - MAX_HELD
        if dropped > 0:
            del self._pending[:dropped]
            log.error("dropped the %d oldest events held for the other processes", dropped)

    async def close(self) -> None:
        self._unsubscribe()
        if self._flushing is None:
            return
        try:
            async with asyncio.timeout(CLOSE_TIMEOUT_S):
                await asyncio.gather(self._flushing, return_exceptions=True)
        except TimeoutError:
            self._flushing.cancel()
            await asyncio.gather(self._flushing, return_exceptions=True)
            log.error("stopped with %d events not sent to the other processes", len(self._pending))


class EventImport:
    """Reads the events stream in the consumer group `group` and publishes each event on this process's
    bus; an entry is acknowledged once every subscriber has handled its events."""

    def __init__(self, link: RedisLink, bus: EventBus, *, group: str) -> None:
        self._redis = link.redis
        self._bus = bus
        self._stream = events_stream(link)
        self._group = self._consumer = group
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Join the group (a new group starts at the stream's end) and read in the background."""
        await self._join("$")
        self._task = asyncio.create_task(self._read(), name="event-import")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _join(self, at: str) -> None:
        try:
            await self._redis.xgroup_create(self._stream, self._group, id=at, mkstream=True)
        except ResponseError as error:
            if "BUSYGROUP" not in str(error):  # BUSYGROUP: joined before, where it stopped reading
                raise

    async def _read(self) -> None:
        backlog = True  # first the entries read before and never acknowledged (a stop in between)
        lost = False
        while True:
            try:
                found: list[tuple[bytes, list[Entry]]] = await self._redis.xreadgroup(  # type: ignore[assignment]
                    self._group,
                    self._consumer,
                    {self._stream: "0" if backlog else ">"},
                    count=READ_COUNT,
                    block=None if backlog else BLOCK_MS,
                )
                entries = [entry for _stream, stream_entries in found for entry in stream_entries]
                if entries:
                    await self._handle(entries)
                else:
                    backlog = False
            except ResponseError as error:
                if "NOGROUP" not in str(error):
                    raise
                log.warning("the events stream or its group is gone (Redis restarted?): joining anew")
                with contextlib.suppress(*FAILURES):
                    await self._join("0")  # whatever the stream holds now came after
                continue
            except FAILURES as error:
                if not lost:
                    log.warning("Redis does not answer (%r); reading events again when it does", error)
                lost, backlog = True, True  # what was handled but not acknowledged is read again
                await asyncio.sleep(RECONNECT_DELAY_S)
                continue
            if lost:
                log.warning("Redis answers again: reading events")
                lost = False

    async def _handle(self, entries: list[Entry]) -> None:
        for _entry_id, fields in entries:  # one entry's events side by side, as the bus runs them
            await asyncio.gather(*(self._bus.deliver(event) for event in _events(fields)))
        await self._redis.xack(self._stream, self._group, *(entry_id for entry_id, _ in entries))


def _events(fields: dict[bytes, bytes] | None) -> list[Event]:
    """The events of one stream entry (none when it was trimmed before it was acknowledged)."""
    if fields is None:
        return []
    try:
        batch = orjson.loads(fields[b"m"])["events"]
    except Exception:
        log.exception("an entry of the events stream could not be read: %.200r", fields)
        return []
    events: list[Event] = []
    for data in batch:
        try:
            events.append(decode(data))
        except Exception:
            log.exception("an event from another process could not be read: %.200r", data)
    return events
