"""Messages a charge point sends, in order; transaction messages kept while offline (OCPP 1.6 §4.7, §4.10).

Transaction messages (StartTransaction, MeterValues with a transactionId, StopTransaction) survive a lost
connection and are retried up to TransactionMessageAttempts times, waiting TransactionMessageRetryInterval ×
the number of attempts so far. Other messages are dropped when the connection is lost. A StartTransaction sent
late maps the local transaction to the id the central system returns; later messages of that transaction
carry that id.
"""

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

Build = Callable[[int | None], Any]  # transaction id (None if none/unknown) → ocpp.v16.call payload
Done = Callable[[Any], None]


class SendFailed(Exception):
    """The message reached the central system and failed (CALLERROR) or had no answer in time."""


@dataclass
class Item:
    build: Build
    transactional: bool
    local_tx: int | None = None
    on_result: Done | None = None
    starts_transaction: bool = False
    attempts: int = 0


@dataclass
class OutboxStats:
    delivered: int = 0
    dropped: int = 0  # transaction messages given up on
    dropped_other: int = 0  # other messages that failed (not retried)


class Outbox:
    """FIFO of messages to the central system; `run(send)` delivers them while the connection is up."""

    def __init__(self, attempts: Callable[[], int], retry_interval_s: Callable[[], float]):
        self._items: deque[Item] = deque()
        self._ids: dict[int, int] = {}
        self._wake = asyncio.Event()
        self._empty = asyncio.Event()
        self._attempts = attempts
        self._retry_interval_s = retry_interval_s
        self.stats = OutboxStats()

    def __len__(self) -> int:
        return len(self._items)

    def put(self, item: Item) -> None:
        self._items.append(item)
        self._wake.set()

    def server_id(self, local_tx: int) -> int | None:
        return self._ids.get(local_tx)

    def drop_volatile(self) -> None:
        """On a lost connection: forget the messages that are not transaction messages."""
        self._items = deque(item for item in self._items if item.transactional)
        self._signal_if_empty()

    def _signal_if_empty(self) -> None:
        if not self._items:
            self._empty.set()

    async def drained(self) -> None:
        """Return once nothing is left to deliver."""
        while self._items:
            self._empty.clear()
            await self._empty.wait()

    async def run(
        self, send: Callable[[Any], Awaitable[Any]], sleep: Callable[[float], Awaitable[None]]
    ) -> None:
        """Deliver in order until cancelled; a connection error propagates and leaves the head for later."""
        while True:
            if not self._items:
                self._wake.clear()
                await self._wake.wait()
                continue
            item = self._items[0]
            transaction_id = self._ids.get(item.local_tx) if item.local_tx is not None else None
            if item.local_tx is not None and transaction_id is None and not item.starts_transaction:
                # Its StartTransaction was never accepted: there is no transaction to report against.
                self._items.popleft()
                self.stats.dropped += 1
                self._signal_if_empty()
                continue
            try:
                result = await send(item.build(transaction_id))
            except SendFailed:
                item.attempts += 1
                if not item.transactional:
                    self._items.popleft()
                    self.stats.dropped_other += 1
                    self._signal_if_empty()
                elif item.attempts >= max(1, self._attempts()):
                    self._items.popleft()
                    self.stats.dropped += 1
                    self._signal_if_empty()
                else:
                    await sleep(self._retry_interval_s() * item.attempts)
                continue
            self._items.popleft()
            self.stats.delivered += 1
            if item.starts_transaction and item.local_tx is not None:
                self._ids[item.local_tx] = result.transaction_id
            if item.on_result is not None:
                item.on_result(result)
            self._signal_if_empty()
