"""The in-process event bus: one instance, made by the composition root and handed to whoever publishes
or subscribes. Units of work record events and the store publishes them after the commit; the gateway
publishes connection events itself.

Handlers run as tasks: a slow or failing subscriber never delays or breaks the publisher.
"""

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable, Iterable

from app.domain.events import Event

log = logging.getLogger(__name__)

EventHandler = Callable[[Event], Awaitable[None] | None]


class EventBus:
    """Publish/subscribe. `publish` never raises and never waits for subscribers."""

    def __init__(self) -> None:
        self._handlers: list[EventHandler] = []
        self._tasks: set[asyncio.Task[None]] = set()

    def subscribe(self, handler: EventHandler) -> Callable[[], None]:
        """Register `handler` (sync or async) for every event; returns a function that unsubscribes it."""
        self._handlers.append(handler)

        def unsubscribe() -> None:
            if handler in self._handlers:
                self._handlers.remove(handler)

        return unsubscribe

    def publish(self, event: Event) -> None:
        for handler in list(self._handlers):
            task = asyncio.get_running_loop().create_task(self._run(handler, event))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def publish_all(self, events: Iterable[Event]) -> None:
        for event in events:
            self.publish(event)

    async def deliver(self, event: Event) -> None:
        """Run every handler on `event` and wait for them (a reader that acknowledges what was handled)."""
        await asyncio.gather(*(self._run(handler, event) for handler in list(self._handlers)))

    async def drain(self) -> None:
        """Wait until every handler started so far has finished (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    @staticmethod
    async def _run(handler: EventHandler, event: Event) -> None:
        try:
            result = handler(event)
            if inspect.isawaitable(result):
                await result
        except Exception:
            log.exception("event handler %r failed on %r", handler, event)
