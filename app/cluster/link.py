"""The Redis link between the processes of a scale-out layout: publish/subscribe on named channels.

Every channel starts with `SMARTCHARGE_REDIS_PREFIX` (several deployments, or tests, may share one Redis).
A process subscribes to its channels before `start`; messages are JSON objects. Handlers run in the order
messages arrive: a plain function inline (keep it short), a coroutine function as a task of its own.

Redis that does not answer (down, unreachable, timing out) is `Unavailable` to the callers of `publish` and
`ping`, within seconds; the subscriptions are taken again when it is back.
"""

import asyncio
import contextlib
import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
import redis.asyncio as redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import RedisError

from app.services.errors import Unavailable

log = logging.getLogger(__name__)

Message = dict[str, Any]
Handler = Callable[[Message], Awaitable[None] | None]
RECONNECT_DELAY_S = 0.5
CONNECT_TIMEOUT_S = 2.0
COMMAND_TIMEOUT_S = 5.0  # a blocking read (pub/sub, a stream's BLOCK) waits longer by its own terms
FAILURES = (RedisError, OSError)  # what a command to a Redis that is gone raises


def unavailable(error: BaseException) -> Unavailable:
    return Unavailable(f"Redis, the bus between the processes, does not answer ({type(error).__name__})")


class RedisLink:
    def __init__(self, url: str, prefix: str) -> None:
        self.redis = redis.Redis.from_url(
            url,
            socket_connect_timeout=CONNECT_TIMEOUT_S,
            socket_timeout=COMMAND_TIMEOUT_S,
            retry=Retry(ExponentialBackoff(cap=0.2, base=0.05), 2),
        )
        self._prefix = prefix
        self._handlers: dict[str, Handler] = {}
        self._reader: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._ready = asyncio.Event()

    def channel(self, *parts: str) -> str:
        return ":".join((self._prefix, *parts))

    def on(self, channel: str, handler: Handler) -> None:
        """Deliver what is published on `channel` to `handler` (call before `start`)."""
        if self._reader is not None:
            raise RuntimeError("subscribe before the link starts")
        self._handlers[channel] = handler

    async def start(self) -> None:
        """Check that Redis answers, subscribe, and read (returns once the subscriptions are in place)."""
        await self.redis.ping()
        self._reader = asyncio.create_task(self._read(), name="redis-link")
        if self._handlers:
            await self._ready.wait()

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            await asyncio.gather(self._reader, return_exceptions=True)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.redis.aclose()

    async def ping(self) -> None:
        """Raises `Unavailable` when Redis does not answer."""
        try:
            await self.redis.ping()
        except FAILURES as error:
            raise unavailable(error) from error

    async def publish(self, channel: str, message: Message) -> int:
        """Publish `message`; returns how many processes were subscribed to `channel` and received it.
        Raises `Unavailable` when Redis does not answer."""
        try:
            return int(await self.redis.publish(channel, orjson.dumps(message)))
        except FAILURES as error:
            raise unavailable(error) from error

    async def append(self, stream: str, message: Message, *, max_len: int) -> None:
        """Add `message` to `stream`, which keeps about the latest `max_len` entries. Raises `Unavailable`
        when Redis does not answer."""
        try:
            await self.redis.xadd(stream, {"m": orjson.dumps(message)}, maxlen=max_len, approximate=True)
        except FAILURES as error:
            raise unavailable(error) from error

    async def _read(self) -> None:
        if not self._handlers:
            return
        lost = False
        while True:
            pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(*self._handlers)
                self._ready.set()
                if lost:
                    log.warning("Redis answers again: subscribed")
                    lost = False
                while True:
                    raw = await pubsub.get_message(timeout=None)
                    if raw is not None and raw.get("type") == "message":
                        self._deliver(raw["channel"].decode(), raw["data"])
            except FAILURES as error:
                if not lost:
                    log.warning(
                        "Redis subscription lost (%r); subscribing again every %.1f s",
                        error,
                        RECONNECT_DELAY_S,
                    )
                lost = True
                await asyncio.sleep(RECONNECT_DELAY_S)
            finally:
                with contextlib.suppress(*FAILURES):
                    await pubsub.aclose()

    def _deliver(self, channel: str, data: bytes) -> None:
        handler = self._handlers.get(channel)
        if handler is None:
            return
        try:
            result = handler(orjson.loads(data))
        except Exception:
            log.exception("handler of %s failed", channel)
            return
        if inspect.isawaitable(result):
            task = asyncio.get_running_loop().create_task(self._finish(channel, result))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _finish(channel: str, work: Awaitable[None]) -> None:
        try:
            await work
        except Exception:
            log.exception("handler of %s failed", channel)
