"""The in-process event bus: handlers run as tasks; a failing one is logged and never breaks the publisher."""

from datetime import UTC, datetime

import pytest

from app.domain.bus import EventBus
from app.domain.events import ChargePointConnected, Event

pytestmark = pytest.mark.anyio

EVENT = ChargePointConnected("CP1", datetime(2026, 1, 1, tzinfo=UTC))


async def test_sync_and_async_handlers_receive_events() -> None:
    bus = EventBus()
    seen: list[tuple[str, Event]] = []

    async def async_handler(event: Event) -> None:
        seen.append(("async", event))

    bus.subscribe(lambda event: seen.append(("sync", event)))
    bus.subscribe(async_handler)
    bus.publish(EVENT)
    assert seen == []  # nothing runs inside publish
    await bus.drain()
    assert sorted(kind for kind, _ in seen) == ["async", "sync"]
    assert all(event == EVENT for _, event in seen)


async def test_failing_handler_is_logged_and_isolated(caplog: pytest.LogCaptureFixture) -> None:
    bus = EventBus()
    seen: list[Event] = []

    def broken(event: Event) -> None:
        raise RuntimeError("subscriber bug")

    bus.subscribe(broken)
    bus.subscribe(seen.append)
    bus.publish(EVENT)
    await bus.drain()
    assert seen == [EVENT]
    assert "subscriber bug" in caplog.text


async def test_unsubscribe() -> None:
    bus = EventBus()
    seen: list[Event] = []
    unsubscribe = bus.subscribe(seen.append)
    unsubscribe()
    bus.publish(EVENT)
    await bus.drain()
    assert seen == []
