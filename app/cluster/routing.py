"""Commands across processes: a process without the sockets (api, scheduler) sends each command to the
gateway holding the charge point, over Redis, and gets back its command id and then its outcome.

The caller checks the command as a gateway would (so a bad one is refused with the same reason and without
a round trip), finds the holder in the presence table, and publishes the request on the holder's channel.
The holder runs it through its own `GatewayCommands` (which records, sends, times out and stores the
outcome exactly as in one process) and answers on the caller's reply channel: `started` (the command id)
or `refused` (the `CommandRefused` reason and detail), then `outcome`. A charge point nobody holds, or a
holder that does not listen or answer, is `not_connected`; a holder that stops before the outcome came
ends the command as an `error` (`Interrupted`).
"""

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from app.cluster.link import Message, RedisLink
from app.db.presence import SqlPresence
from app.domain.enums import CommandStatus
from app.domain.ports import CommandOutcome, CommandRefused
from ocpp_gateway.commands import prepare

log = logging.getLogger(__name__)


def gateway_channel(link: RedisLink, gateway_id: str) -> str:
    return link.channel("gateway", gateway_id)


def presence_channel(link: RedisLink) -> str:
    return link.channel("presence")


@dataclass
class _Waiting:
    gateway_id: str
    started: asyncio.Future[int] = field(default_factory=lambda: asyncio.get_running_loop().create_future())
    outcome: asyncio.Future[CommandOutcome] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class RoutedCommands:
    """`ChargePointCommands` for a process that holds no connection."""

    def __init__(
        self, link: RedisLink, directory: SqlPresence, *, process_id: str, route_timeout_s: float
    ) -> None:
        self._link = link
        self._directory = directory
        self._route_timeout_s = route_timeout_s
        self._reply_channel = link.channel("reply", process_id)
        self._waiting: dict[str, _Waiting] = {}
        self._held: set[str] = set()
        link.on(self._reply_channel, self._on_reply)
        link.on(presence_channel(link), self._on_presence)

    def is_connected(self, charge_point_id: str) -> bool:
        return charge_point_id in self._held

    def connected_ids(self) -> set[str]:
        return set(self._held)

    async def refresh(self) -> None:
        """Read who is held from the presence table (between the gateways' announcements)."""
        self._held = await self._directory.held_ids()

    async def send(
        self,
        charge_point_id: str,
        action: str,
        payload: Mapping[str, Any],
        *,
        author: str | None = None,
        wait: bool = False,
    ) -> int:
        command_id, outcome = await self._start(charge_point_id, action, payload, author, wait)
        if outcome is not None:
            await outcome
        return command_id

    async def call(
        self, charge_point_id: str, action: str, payload: Mapping[str, Any], *, author: str | None = None
    ) -> tuple[int, CommandOutcome]:
        command_id, outcome = await self._start(charge_point_id, action, payload, author, True)
        assert outcome is not None
        return command_id, await outcome

    async def _start(
        self, charge_point_id: str, action: str, payload: Mapping[str, Any], author: str | None, wait: bool
    ) -> tuple[int, Awaitable[CommandOutcome] | None]:
        prepare(action, payload)
        holder = await self._directory.holder(charge_point_id)
        if holder is None:
            self._held.discard(charge_point_id)
            raise CommandRefused("not_connected", f"{charge_point_id} is not connected")
        request_id = uuid.uuid4().hex
        waiting = self._waiting[request_id] = _Waiting(holder.gateway_id)
        request = {
            "op": "command",
            "id": request_id,
            "reply_to": self._reply_channel,
            "charge_point_id": charge_point_id,
            "action": action,
            "payload": dict(payload),
            "author": author,
            "outcome": wait,
        }
        try:
            if not await self._link.publish(gateway_channel(self._link, holder.gateway_id), request):
                raise CommandRefused(
                    "not_connected", f"{charge_point_id} is not connected (its gateway does not listen)"
                )
            try:
                async with asyncio.timeout(self._route_timeout_s):
                    command_id = await waiting.started
            except TimeoutError:
                raise CommandRefused(
                    "not_connected",
                    f"{charge_point_id} is not connected (its gateway did not answer in "
                    f"{self._route_timeout_s:g} s)",
                ) from None
        except BaseException:
            self._waiting.pop(request_id, None)
            raise
        if not wait:
            self._waiting.pop(request_id, None)
            return command_id, None
        return command_id, self._outcome(request_id, waiting)

    async def _outcome(self, request_id: str, waiting: _Waiting) -> CommandOutcome:
        """The outcome the holder sends; checked against its lease while it takes long (a holder that died
        never answers)."""
        try:
            while True:
                try:
                    async with asyncio.timeout(self._route_timeout_s):
                        return await asyncio.shield(waiting.outcome)
                except TimeoutError:
                    if not await self._directory.alive(waiting.gateway_id):
                        return CommandOutcome(
                            CommandStatus.error,
                            error_code="Interrupted",
                            error_description=f"gateway {waiting.gateway_id} stopped before an answer came",
                        )
        finally:
            self._waiting.pop(request_id, None)

    def _on_reply(self, message: Message) -> None:
        waiting = self._waiting.get(message.get("id", ""))
        if waiting is None:
            return
        kind = message.get("kind")
        if kind == "started" and not waiting.started.done():
            waiting.started.set_result(int(message["command_id"]))
        elif kind == "refused" and not waiting.started.done():
            waiting.started.set_exception(CommandRefused(message["reason"], message["detail"]))
        elif kind == "failed" and not waiting.started.done():
            waiting.started.set_exception(RuntimeError(f"the gateway failed: {message['detail']}"))
        elif kind == "outcome" and not waiting.outcome.done():
            waiting.outcome.set_result(
                CommandOutcome(
                    CommandStatus(message["status"]),
                    response=message.get("response"),
                    error_code=message.get("error_code"),
                    error_description=message.get("error_description"),
                )
            )

    def _on_presence(self, message: Message) -> None:
        if message.get("held"):
            self._held.add(message["charge_point_id"])
        else:
            self._held.discard(message["charge_point_id"])


class CommandStarter(Protocol):
    """What a gateway offers for routed commands (`ocpp_gateway.commands.GatewayCommands.start`)."""

    async def start(
        self, charge_point_id: str, action: str, payload: Mapping[str, Any], author: str | None
    ) -> tuple[int, asyncio.Task[CommandOutcome]]: ...


class GatewayListener:
    """A gateway's end of the routing: runs the commands sent to it and closes connections another gateway
    took over."""

    def __init__(
        self,
        link: RedisLink,
        gateway_id: str,
        commands: CommandStarter,
        close: Callable[[str, str], Awaitable[None]],
    ) -> None:
        self._link = link
        self._commands = commands
        self._close = close
        link.on(gateway_channel(link, gateway_id), self._on_message)

    async def _on_message(self, message: Message) -> None:
        if message.get("op") == "close":
            await self._close(message["charge_point_id"], message["connection_id"])
        elif message.get("op") == "command":
            await self._run(message)

    async def _run(self, request: Message) -> None:
        reply_to, request_id = request["reply_to"], request["id"]
        try:
            command_id, task = await self._commands.start(
                request["charge_point_id"], request["action"], request["payload"], request.get("author")
            )
        except CommandRefused as refused:
            reply = {"id": request_id, "kind": "refused", "reason": refused.reason, "detail": refused.detail}
            await self._link.publish(reply_to, reply)
            return
        except Exception as error:
            log.exception("routed %s for %s failed", request["action"], request["charge_point_id"])
            await self._link.publish(reply_to, {"id": request_id, "kind": "failed", "detail": repr(error)})
            return
        await self._link.publish(reply_to, {"id": request_id, "kind": "started", "command_id": command_id})
        if request.get("outcome"):
            outcome = await asyncio.shield(task)
            await self._link.publish(
                reply_to,
                {
                    "id": request_id,
                    "kind": "outcome",
                    "status": outcome.status.value,
                    "response": outcome.response,
                    "error_code": outcome.error_code,
                    "error_description": outcome.error_description,
                },
            )
