"""Text no database can store is refused at the door: a NUL character or an unpaired UTF-16 surrogate in the
path, the query or a JSON body is a 422 problem naming where it is, before any route or database sees it.
(PostgreSQL `text` cannot hold NUL; a lone surrogate cannot be encoded as UTF-8 for either backend.)"""

import json
import re
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.errors import PROBLEM_JSON

__all__ = ["TextGuard", "unstorable_text"]

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
MESSAGE = "text may not contain NUL characters or unpaired surrogates"


def unstorable_text(value: Any, loc: tuple[str | int, ...]) -> tuple[str | int, ...] | None:
    """Where in `value` (parsed JSON) a string holds a NUL or a lone surrogate, or None."""
    if isinstance(value, str):
        return loc if _UNSTORABLE.search(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            if _UNSTORABLE.search(key):
                return (*loc, key)
            found = unstorable_text(item, (*loc, key))
            if found is not None:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = unstorable_text(item, (*loc, index))
            if found is not None:
                return found
    return None


def _in_url(scope: Scope) -> tuple[str | int, ...] | None:
    if _UNSTORABLE.search(scope.get("path", "")):
        return ("path",)
    query = scope.get("query_string", b"").decode("latin-1")
    for name, value in parse_qsl(query, keep_blank_values=True):
        if _UNSTORABLE.search(name) or _UNSTORABLE.search(value):
            return ("query", name)
    return None


def _is_json(scope: Scope) -> bool:
    """As FastAPI reads a body: JSON when it says so, or says nothing."""
    for name, value in scope.get("headers", []):
        if name == b"content-type":
            media_type: bytes = value.split(b";")[0].strip().lower()
            return media_type == b"application/json" or media_type.endswith(b"+json")
    return True


async def _refuse(scope: Scope, send: Send, loc: tuple[str | int, ...]) -> None:
    where = ".".join(str(part) for part in loc)
    body = {
        "type": "about:blank",
        "title": "Unprocessable Content",
        "status": 422,
        "detail": f"{where}: {MESSAGE}",
        "instance": scope.get("path", ""),
        "errors": [{"loc": list(loc), "msg": MESSAGE, "type": "string_unstorable"}],
    }
    content = json.dumps(body, ensure_ascii=True).encode()
    headers = [(b"content-type", PROBLEM_JSON.encode()), (b"content-length", str(len(content)).encode())]
    await send({"type": "http.response.start", "status": 422, "headers": headers})
    await send({"type": "http.response.body", "body": content})


class TextGuard:
    """ASGI middleware: refuse unstorable text in the URL or a JSON body with a 422 problem."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        where = _in_url(scope)
        if where is not None:
            await _refuse(scope, send, where)
            return
        if scope["method"] in ("GET", "HEAD") or not _is_json(scope):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, receive, send)  # the client left; let the route see it
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        try:
            where = unstorable_text(json.loads(body), ("body",))
        except (ValueError, RecursionError):
            where = None  # not JSON (or not UTF-8): the route answers that
        if where is not None:
            await _refuse(scope, send, where)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)
