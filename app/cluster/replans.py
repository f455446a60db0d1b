"""Replan-now across processes: an API process asks the scheduler processes, over Redis, to plan a site now
and gets back the revision (`POST /sites/{id}/schedule/replan` in any role).

The caller publishes the request on `{prefix}:scheduler`; the scheduler holding the site answers on the
caller's channel `{prefix}:reply:{process}:replan`, `started` at once, then `replanned` with the revision id
(or `not_found`, `failed`). Nobody listening, no `started` within `SMARTCHARGE_COMMAND_ROUTE_TIMEOUT_S`,
or no result within the replan's own bound, is `Unavailable` (HTTP 503): the request may be made again.
"""

import asyncio
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from app.cluster.link import Message, RedisLink
from app.domain.ports import Replanner
from app.services.errors import NotFound, Unavailable

log = logging.getLogger(__name__)

T = TypeVar("T")


def scheduler_channel(link: RedisLink) -> str:
    return link.channel("scheduler")


@dataclass
class _Waiting:
    started: asyncio.Future[None] = field(default_factory=lambda: asyncio.get_running_loop().create_future())
    done: asyncio.Future[int] = field(default_factory=lambda: asyncio.get_running_loop().create_future())


class RoutedReplans:
    """`Replanner` for a process without the scheduler."""

    def __init__(
        self, link: RedisLink, *, process_id: str, route_timeout_s: float, replan_timeout_s: float
    ) -> None:
        self._link = link
        self._route_timeout_s = route_timeout_s
        self._replan_timeout_s = replan_timeout_s
        self._reply_channel = link.channel("reply", process_id, "replan")
        self._waiting: dict[str, _Waiting] = {}
        link.on(self._reply_channel, self._on_reply)

    async def replan_now(self, site_id: int, trigger: str) -> int:
        request_id = uuid.uuid4().hex
        waiting = self._waiting[request_id] = _Waiting()
        request = {
            "op": "replan",
            "id": request_id,
            "reply_to": self._reply_channel,
            "site_id": site_id,
            "trigger": trigger,
        }
        try:
            if not await self._link.publish(scheduler_channel(self._link), request):
                raise Unavailable("no scheduler process listens (role scheduler): nothing can plan now")
            await self._wait(waiting.started, self._route_timeout_s, "no scheduler process answered")
            return await self._wait(waiting.done, self._replan_timeout_s, "the scheduler did not finish")
        finally:
            self._waiting.pop(request_id, None)

    @staticmethod
    async def _wait(future: asyncio.Future[T], timeout_s: float, what: str) -> T:
        try:
            async with asyncio.timeout(timeout_s):
                return await future
        except TimeoutError:
            raise Unavailable(f"{what} in {timeout_s:g} s") from None

    def _on_reply(self, message: Message) -> None:
        waiting = self._waiting.get(message.get("id", ""))
        if waiting is None:
            return
        kind = message.get("kind")
        if not waiting.started.done():
            waiting.started.set_result(None)
        if waiting.done.done() or kind == "started":
            return
        if kind == "replanned":
            waiting.done.set_result(int(message["revision_id"]))
        elif kind == "not_found":
            waiting.done.set_exception(NotFound(message["detail"]))
        else:
            waiting.done.set_exception(Unavailable(f"the scheduler could not plan: {message.get('detail')}"))


class ReplanListener:
    """A scheduler's end: plans the sites asked for that it holds (`owns`) and answers; the others leave
    the request to the site's holder."""

    def __init__(
        self, link: RedisLink, scheduler: Replanner, *, owns: Callable[[int], bool] = lambda _: True
    ) -> None:
        self._link = link
        self._scheduler = scheduler
        self._owns = owns
        link.on(scheduler_channel(link), self._on_message)

    async def _on_message(self, message: Message) -> None:
        if message.get("op") != "replan" or not self._owns(int(message["site_id"])):
            return
        reply_to, request_id = message["reply_to"], message["id"]
        await self._link.publish(reply_to, {"id": request_id, "kind": "started"})
        try:
            revision_id = await self._scheduler.replan_now(int(message["site_id"]), str(message["trigger"]))
        except NotFound as missing:
            reply = {"id": request_id, "kind": "not_found", "detail": missing.detail}
        except Exception as error:
            log.exception("site %s: routed replan failed", message["site_id"])
            reply = {"id": request_id, "kind": "failed", "detail": repr(error)}
        else:
            reply = {"id": request_id, "kind": "replanned", "revision_id": revision_id}
        await self._link.publish(reply_to, reply)
