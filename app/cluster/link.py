"""The Redis link between the processes of a scale-out layout: publish/subscribe on named channels.

Every channel starts with `SMARTCHARGE_REDIS_PREFIX` (several deployments, or tests, may share one Redis).
A process subscribes to its channels before `start`; messages are JSON objects. Handlers run in the order
messages arrive: a plain function inline (keep it short), a coroutine function as a task of its own.
"""

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
import redis.asyncio as redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

Message = dict[str, Any]
Handler = Callable[[Message], Awaitable[None] | None]
RECONNECT_DELAY_S = 0.5


class RedisLink:
    def __init__(self, url: str, prefix: str) -> None:
        self._redis = redis.Redis.from_url(url)
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
        await self._redis.ping()
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
        await self._redis.aclose()

    async def publish(self, channel: str, message: Message) -> int:
        """Publish `message`; returns how many processes were subscribed to `channel` and received it."""
        return int(await self._redis.publish(channel, orjson.dumps(message)))

    async def _read(self) -> None:
        if not self._handlers:
            return
        while True:
            pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(*self._handlers)
                self._ready.set()
                while True:
                    raw = await pubsub.get_message(timeout=None)
                    if raw is not None and raw.get("type") == "message":
                        self._deliver(raw["channel"].decode(), raw["data"])
            except RedisError:
                log.exception("Redis subscription lost; subscribing again in %.1f s", RECONNECT_DELAY_S)
                await asyncio.sleep(RECONNECT_DELAY_S)
            finally:
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
