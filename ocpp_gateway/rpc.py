"""OCPP-J 1.6 framing over one WebSocket, replacing the `ocpp` package's receive path.

The package drops frames it cannot unpack without answering, answers 2.0.1's FormatViolation, swaps
NotImplemented and NotSupported, and handles one frame at a time so that a CALLRESULT for our own CALL
waits behind a slow handler. Here:

* a reader task parses every frame and answers each malformed CALL with a Table 7 CALLERROR
  (UniqueId "-1" when none can be read, as OCPP 2.0.1 prescribes; 1.6 is silent on it);
* well-formed CALLs go to a worker that handles them strictly in order, one at a time (so the
  charge point's message order is the storage order); replies to our CALLs are routed at once;
* a UniqueId longer than 36 characters (FormationViolation) or still in progress (GenericError),
  and a CALL above `max_message_bytes` (GenericError, not handled) are answered without being handled.
  The transport's own limit is set higher, so such frames are answered instead of closing the socket.
"""

import asyncio
import contextlib
import functools
import inspect
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

import orjson
from ocpp import routing
from ocpp.charge_point import camel_to_snake_case, remove_nones, serialize_as_dict, snake_to_camel_case
from ocpp.v16 import ChargePoint as OcppChargePoint
from ocpp.v16.enums import Action
from websockets.asyncio.connection import Connection
from websockets.exceptions import ConnectionClosed

from app.domain.ports import NO_METRICS, Metrics
from ocpp_gateway.errors import (
    CallErrorCode,
    FormationViolation,
    GenericError,
    InternalError,
    NotImplementedAction,
    NotSupportedAction,
    ProtocolError,
)
from ocpp_gateway.frames import NotUnicode, holds_lone_surrogate, parse
from ocpp_gateway.validation import validate

log = logging.getLogger(__name__)

CALL, CALLRESULT, CALLERROR = 2, 3, 4
MAX_UNIQUE_ID = 36
UNKNOWN_ID = "-1"
MAX_IN_PROGRESS = 100  # OCPP-J allows one CALL at a time; beyond this a charge point is misbehaving
KNOWN_ACTIONS = frozenset(action.value for action in Action)


_Handler = TypeVar("_Handler", bound=Callable[..., Any])


def on(action: str) -> Callable[[_Handler], _Handler]:
    """`ocpp.routing.on`, typed."""
    return cast(Callable[[_Handler], _Handler], routing.on(action))


def camel_case_payload(handler: _Handler) -> _Handler:
    """Under `@on`: the handler takes the payload as received, camelCase keys, in one `payload` argument,
    and may return the response payload as a dict. For hot messages: no conversion of every key of a
    nested payload into keyword arguments, nor of the response through the package's dataclasses."""
    handler._camel_case_payload = True  # type: ignore[attr-defined]
    return handler


def after(action: str) -> Callable[[_Handler], _Handler]:
    """`ocpp.routing.after`, typed: the hook runs as a task once the CALLRESULT is sent."""
    return cast(Callable[[_Handler], _Handler], routing.after(action))


class ConnectionLost(Exception):
    """The connection closed before the charge point answered our CALL."""


@dataclass(frozen=True)
class Reply:
    """The charge point's answer to a CALL: a CALLRESULT payload, or a CALLERROR's code and description."""

    payload: dict[str, Any] | None = None
    error_code: str | None = None
    error_description: str = ""
    error_details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class _Call:
    unique_id: str
    action: str
    payload: dict[str, Any]


def _frame(*parts: Any) -> str:
    try:
        return orjson.dumps(parts).decode()  # compact UTF-8, as below, at a tenth of the cost
    except TypeError:  # what orjson does not take (a Decimal, an int beyond 64 bits, a non-str key)
        return json.dumps(list(parts), separators=(",", ":"), ensure_ascii=False)


@functools.lru_cache(maxsize=4096)
def _snake_key(key: str) -> str:
    converted: dict[str, Any] = camel_to_snake_case({key: None})
    return next(iter(converted))


def snake_case_keys(data: Any) -> Any:
    """The package's `camel_to_snake_case`, with each key's conversion (two regex passes) cached."""
    if isinstance(data, dict):
        return {_snake_key(key): snake_case_keys(value) for key, value in data.items()}
    if isinstance(data, list):
        return [snake_case_keys(value) for value in data]
    return data


@functools.cache
def _takes_unique_id(function: Callable[..., Any]) -> bool:
    return "call_unique_id" in inspect.signature(function).parameters


def _label(action: str) -> str:
    """An action as a metric label: anything a charge point may send beyond OCPP's actions is `other`."""
    return action if action in KNOWN_ACTIONS else "other"


def _wants_unique_id(handler: Callable[..., Any]) -> bool:
    """Whether `handler` takes `call_unique_id`; cached per function, not per connection's bound method."""
    return _takes_unique_id(getattr(handler, "__func__", handler))


class OcppJEndpoint(OcppChargePoint):  # type: ignore[misc]
    """One charge point's connection. Subclasses declare `@on` / `@after` handlers as with the package."""

    def __init__(
        self,
        charge_point_id: str,
        connection: Connection,
        *,
        max_message_bytes: int,
        metrics: Metrics = NO_METRICS,
    ) -> None:
        super().__init__(charge_point_id, connection, logger=log)
        self._metrics = metrics
        self.connection = connection
        self._max_message_bytes = max_message_bytes
        self._pending: dict[str, asyncio.Future[Reply]] = {}
        self._in_progress: set[str] = set()
        self._inbox: asyncio.Queue[_Call | None] = asyncio.Queue()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closing = False

    # --- receiving -------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Serve until the connection closes; the CALL being handled then is finished, queued ones dropped."""
        worker = asyncio.create_task(self._work(), name=f"ocpp-worker-{self.id}")
        try:
            async for frame in self._connection:
                await self.route_message(frame)
        finally:
            self._closing = True
            self._inbox.put_nowait(None)
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(ConnectionLost(f"{self.id} disconnected"))
            try:
                await asyncio.wait_for(asyncio.shield(worker), timeout=10)
            except TimeoutError:
                worker.cancel()
            for task in list(self._tasks):
                task.cancel()

    async def route_message(self, raw_msg: str | bytes) -> None:
        log.debug("%s: receive %.1000r", self.id, raw_msg)
        try:
            text = raw_msg.decode() if isinstance(raw_msg, bytes) else raw_msg
            message = parse(text)
        except NotUnicode as not_unicode:
            await self._refuse_not_unicode(not_unicode.message)
            return
        except (ValueError, RecursionError):
            await self._reply_error(UNKNOWN_ID, FormationViolation("the frame is not valid JSON"))
            return
        if not isinstance(message, list) or not message:
            await self._reply_error(UNKNOWN_ID, FormationViolation("an OCPP-J message is a JSON array"))
            return
        type_id = message[0]
        unique_id = message[1] if len(message) > 1 and isinstance(message[1], str) else None
        if type_id in (CALLRESULT, CALLERROR) and not isinstance(type_id, bool):
            self._accept_reply(type_id, unique_id, message)
            return
        if type_id != CALL or isinstance(type_id, bool):
            error = FormationViolation(f"unknown MessageTypeId {type_id!r}")
            await self._reply_error(unique_id or UNKNOWN_ID, error)
            return
        call = await self._check_call(message, unique_id, len(text.encode()))
        if call is not None:
            self._metrics.ocpp_message("in", _label(call.action), "call")
            self._in_progress.add(call.unique_id)
            await self._inbox.put(call)

    async def _refuse_not_unicode(self, message: Any) -> None:
        """FormationViolation for a CALL (to its UniqueId when that is clean); a reply to our CALL fails."""
        parts = message if isinstance(message, list) else []
        unique_id = parts[1] if len(parts) > 1 and isinstance(parts[1], str) else None
        if unique_id is not None and holds_lone_surrogate(unique_id):
            unique_id = None
        error = FormationViolation("a string holds a lone surrogate: not Unicode text")
        if parts and parts[0] in (CALLRESULT, CALLERROR):  # a reply is never answered
            future = self._pending.get(unique_id) if unique_id is not None else None
            if future is not None and not future.done():
                future.set_result(Reply(error_code=error.code, error_description=str(error)))
            return
        await self._reply_error(unique_id or UNKNOWN_ID, error)

    async def _check_call(self, message: list[Any], unique_id: str | None, size: int) -> _Call | None:
        error: CallErrorCode | None = None
        if unique_id is None:
            error = FormationViolation("the UniqueId must be a string")
        elif len(unique_id) > MAX_UNIQUE_ID:
            error = FormationViolation(f"the UniqueId is longer than {MAX_UNIQUE_ID} characters")
        elif size > self._max_message_bytes:
            error = GenericError(f"the message of {size} bytes exceeds {self._max_message_bytes}")
        elif len(message) == 3 and isinstance(message[2], str):
            error = ProtocolError("the CALL has no payload")
        elif len(message) != 4 or not isinstance(message[2], str) or not isinstance(message[3], dict):
            error = FormationViolation("a CALL is [2, UniqueId, Action, {payload}]")
        elif unique_id in self._in_progress:
            error = GenericError(f"a CALL with UniqueId {unique_id!r} is still in progress")
        elif len(self._in_progress) >= MAX_IN_PROGRESS:
            error = GenericError(f"more than {MAX_IN_PROGRESS} CALLs in progress")
        if error is not None:
            await self._reply_error(unique_id or UNKNOWN_ID, error)
            return None
        assert unique_id is not None
        return _Call(unique_id, message[2], message[3])

    def _accept_reply(self, type_id: int, unique_id: str | None, message: list[Any]) -> None:
        future = self._pending.get(unique_id) if unique_id is not None else None
        if future is None or future.done():
            log.warning("%s: ignoring a reply to no pending CALL: %.200s", self.id, message)
            return
        if type_id == CALLRESULT:
            if len(message) == 3 and isinstance(message[2], dict):
                future.set_result(Reply(payload=message[2]))
            else:
                future.set_result(
                    Reply(error_code="FormationViolation", error_description="malformed CALLRESULT")
                )
            return
        code = message[2] if len(message) > 2 and isinstance(message[2], str) else "GenericError"
        description = message[3] if len(message) > 3 and isinstance(message[3], str) else ""
        details = message[4] if len(message) > 4 and isinstance(message[4], dict) else {}
        future.set_result(Reply(error_code=code, error_description=description, error_details=details))

    async def _work(self) -> None:
        while (call := await self._inbox.get()) is not None and not self._closing:
            try:
                await self._handle_call(call)
            finally:
                self._in_progress.discard(call.unique_id)

    async def _handle_call(self, msg: _Call) -> None:
        after: Callable[[], Any] | None = None
        started = asyncio.get_running_loop().time()
        try:
            payload, after = await self._dispatch(msg)
            frame = _frame(CALLRESULT, msg.unique_id, payload)
        except CallErrorCode as error:
            log.warning("%s: %s answered %s: %s", self.id, msg.action, error.code, error.details)
            frame = _frame(CALLERROR, msg.unique_id, error.code, error.description, error.details)
        except Exception:
            log.exception("%s: handler for %s failed", self.id, msg.action)
            frame = _frame(CALLERROR, msg.unique_id, InternalError.code, InternalError.description, {})
        try:
            await self._send(frame)
        except ConnectionClosed:
            return
        self._metrics.ocpp_message("out", _label(msg.action), "error" if frame.startswith("[4") else "result")
        self._metrics.call_handled(_label(msg.action), asyncio.get_running_loop().time() - started)
        if after is not None:
            self.spawn(after())

    async def _dispatch(self, msg: _Call) -> tuple[dict[str, Any], Callable[[], Any] | None]:
        handlers = self.route_map.get(msg.action, {})
        handler = handlers.get("_on_action")
        if handler is None:
            if msg.action in KNOWN_ACTIONS:
                raise NotSupportedAction(f"{msg.action} is not supported by this central system")
            raise NotImplementedAction(f"{msg.action} is not an OCPP 1.6 action")
        checked = not handlers.get("_skip_schema_validation", False)
        if checked:
            validate(msg.action, msg.payload)
        if getattr(handler, "_camel_case_payload", False):
            response = handler(msg.payload)
        else:
            kwargs = snake_case_keys(msg.payload)
            if _wants_unique_id(handler):
                kwargs["call_unique_id"] = msg.unique_id
            response = handler(**kwargs)
        if inspect.isawaitable(response):
            response = await response
        if isinstance(response, dict):
            payload = response
        else:
            payload = snake_to_camel_case(remove_nones(serialize_as_dict(response)))
        if checked:
            try:
                validate(msg.action, payload, response=True)
            except CallErrorCode as error:
                raise InternalError("the central system built an invalid response") from error
        hook = handlers.get("_after_action")
        if hook is None:
            return payload, None
        return payload, lambda: hook(**snake_case_keys(msg.payload))

    async def _reply_error(self, unique_id: str, error: CallErrorCode) -> None:
        log.warning("%s: answered %s: %s", self.id, error.code, error.details)
        with contextlib.suppress(ConnectionClosed):
            await self._send(_frame(CALLERROR, unique_id, error.code, error.description, error.details))

    # --- sending ----------------------------------------------------------------------------------------

    async def call_action(
        self,
        action: str,
        payload: dict[str, Any],
        *,
        timeout_s: float,
        on_sent: Callable[[], Awaitable[None]] | None = None,
    ) -> Reply:
        """Send one CALL (one at a time per connection, as OCPP-J requires) and wait for its answer.

        Raises `TimeoutError` after `timeout_s` seconds without an answer and `ConnectionLost` on disconnect.
        """
        unique_id = str(uuid.uuid4())
        future: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
        async with self._call_lock:
            if self._closing:
                raise ConnectionLost(f"{self.id} disconnected")
            self._pending[unique_id] = future
            try:
                try:
                    await self._send(_frame(CALL, unique_id, action, payload))
                except ConnectionClosed as error:
                    raise ConnectionLost(f"{self.id} disconnected") from error
                self._metrics.ocpp_message("out", action, "call")
                sent_at = asyncio.get_running_loop().time()
                if on_sent is not None:
                    await on_sent()
                async with asyncio.timeout(timeout_s):
                    reply = await future
                self._metrics.ocpp_message("in", action, "error" if reply.payload is None else "result")
                self._metrics.call_answered(action, asyncio.get_running_loop().time() - sent_at)
                return reply
            finally:
                self._pending.pop(unique_id, None)
                if not future.done():
                    future.cancel()
                elif not future.cancelled():
                    future.exception()  # retrieved: no "exception was never retrieved" on cancellation

    async def call(
        self, payload: Any, suppress: bool = True, unique_id: Any = None, skip_schema_validation: bool = False
    ) -> Any:
        """The package's `call(dataclass)` on top of `call_action` (a CALLERROR returns None or raises)."""
        action = type(payload).__name__
        body = remove_nones(snake_to_camel_case(serialize_as_dict(payload)))
        reply = await self.call_action(action, body, timeout_s=self._response_timeout)
        if reply.payload is None:
            if suppress:
                return None
            raise GenericError(f"{reply.error_code}: {reply.error_description}")
        return getattr(self._call_result, action)(**camel_to_snake_case(reply.payload))

    async def _send(self, message: str) -> None:
        log.debug("%s: send %s", self.id, message)
        await self._connection.send(message)

    def spawn(self, awaitable: Awaitable[Any]) -> None:
        """Run `awaitable` as a task tied to this connection (cancelled when it closes); logs failures."""

        async def run() -> None:
            try:
                await awaitable
            except Exception:
                log.exception("%s: background task failed", self.id)

        task = asyncio.get_running_loop().create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
