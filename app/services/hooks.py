"""Change hooks that fire only after the unit of work has committed.

A service calls `hook.publish(session, event)`; listeners (the scheduler) see the event once the session
commits, never for a rolled-back change. Listeners are plain callables; a coroutine they return runs
as a task.
"""

import asyncio
import logging
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session
from sqlmodel.ext.asyncio.session import AsyncSession

log = logging.getLogger(__name__)

E = TypeVar("E")

_PENDING = "smartcharge.hooks.pending"
_LISTENING = "smartcharge.hooks.listening"
_tasks: set[asyncio.Task[Any]] = set()


class Hook(Generic[E]):
    def __init__(self, name: str) -> None:
        self.name = name
        self._listeners: list[Callable[[E], Any]] = []

    def subscribe(self, listener: Callable[[E], Any]) -> Callable[[], None]:
        """Add a listener; returns the function that removes it."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def publish(self, session: AsyncSession, event: E) -> None:
        """Deliver `event` to the listeners after `session` commits (dropped on rollback)."""
        sync = session.sync_session
        if not sync.info.get(_LISTENING):
            sync.info[_LISTENING] = True
            sa_event.listen(sync, "after_commit", _deliver)
            sa_event.listen(sync, "after_rollback", _discard)
        sync.info.setdefault(_PENDING, []).append((self, event))

    def deliver(self, event: E) -> None:
        for listener in list(self._listeners):
            try:
                result = listener(event)
                if asyncio.iscoroutine(result):
                    task = asyncio.get_running_loop().create_task(result)
                    _tasks.add(task)
                    task.add_done_callback(_tasks.discard)
            except Exception:
                log.exception("listener of %s failed on %r", self.name, event)


def _deliver(session: Session) -> None:
    for hook, event in session.info.pop(_PENDING, []):
        hook.deliver(event)


def _discard(session: Session) -> None:
    session.info.pop(_PENDING, None)
