"""Drive `charge_point.js` (ocpp-rpc in strict mode, an independent OCPP 1.6J client) from a test.

`node_charge_point(endpoint, identity, password)` starts it as a subprocess, waits until its WebSocket is
open, and yields a `NodeChargePoint`: `call` sends a charge-point-initiated CALL and returns the result the
strict client accepted, `received` waits for a central-system CALL it answered, and every strict-mode schema
failure or bad frame it reports is collected in `violations`. On exit stdin is closed, the client closes its
connection and must exit with status 0 (none reported).
"""

import asyncio
import contextlib
import itertools
import json
import shutil
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

INTEROP_DIR = Path(__file__).parent
SCRIPT = INTEROP_DIR / "charge_point.js"
NODE_MODULES = INTEROP_DIR / "node_modules" / "ocpp-rpc"
TIMEOUT_S = 30.0  # generous: a busy machine; every wait ends as soon as its condition holds

Event = dict[str, Any]


def node_or_skip() -> str:
    """The `node` executable; the test is skipped without one. Its packages must be installed."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: the ocpp-rpc interoperability test needs Node.js 18+")
    if not NODE_MODULES.is_dir():
        pytest.fail(
            f"{NODE_MODULES} is missing: run `make install` (it runs `npm ci --prefix tests/interop`)"
        )
    return node


class CallFailed(Exception):
    """The strict client's call was answered with a CALLERROR, or the answer failed its validation."""

    def __init__(self, action: str, code: str | None, message: str) -> None:
        super().__init__(f"{action}: {code}: {message}")
        self.code = code


class NodeChargePoint:
    def __init__(self, process: asyncio.subprocess.Process, *, fail_fast: bool = True) -> None:
        self._process = process
        self._fail_fast = fail_fast  # a wait fails at once when a violation is reported
        self._ids = itertools.count(1)
        self.events: list[Event] = []
        self._changed = asyncio.Condition()
        self.stderr = ""
        self._reader = asyncio.create_task(self._read())
        self._stderr_reader = asyncio.create_task(self._read_stderr())

    @property
    def violations(self) -> list[Event]:
        return [event for event in self.events if event["event"] == "violation"]

    async def _read(self) -> None:
        assert self._process.stdout is not None
        async for line in self._process.stdout:
            event = json.loads(line)
            async with self._changed:
                self.events.append(event)
                self._changed.notify_all()
        async with self._changed:
            self.events.append({"event": "eof"})
            self._changed.notify_all()

    async def _read_stderr(self) -> None:
        assert self._process.stderr is not None
        async for line in self._process.stderr:
            self.stderr += line.decode()

    async def wait_until(
        self, find: Callable[[list[Event]], Event | None], timeout_s: float = TIMEOUT_S
    ) -> Event:
        """Wait until `find` picks an event from those reported so far; fails if the client ends first, or
        (with `fail_fast`) reports a violation."""
        async with asyncio.timeout(timeout_s), self._changed:
            while (found := find(self.events)) is None:
                if self._fail_fast and self.violations:
                    raise AssertionError(f"the strict client reported: {self.violations}")
                if self.events and self.events[-1]["event"] in {"eof", "crashed"}:
                    raise AssertionError(f"the Node charge point ended: {self.events[-3:]}")
                await self._changed.wait()
            return found

    async def wait_for(self, match: Callable[[Event], bool]) -> Event:
        """The first event reported that matches."""
        return await self.wait_until(lambda events: next((e for e in events if match(e)), None))

    async def call(self, action: str, params: dict[str, Any]) -> dict[str, Any]:
        """Send a CALL from the charge point; the CALLRESULT payload, valid by the strict client's check."""
        request_id = next(self._ids)
        assert self._process.stdin is not None
        line = json.dumps({"id": request_id, "call": action, "params": params})
        self._process.stdin.write(line.encode() + b"\n")
        await self._process.stdin.drain()
        event = await self.wait_for(lambda e: e.get("id") == request_id)
        if event["event"] == "error":
            raise CallFailed(action, event["code"], event["message"])
        result: dict[str, Any] = event["result"]
        return result

    async def received(self, action: str, count: int = 1) -> Event:
        """The `count`-th central-system CALL of `action` that the client received and answered."""

        def nth(events: list[Event]) -> Event | None:
            calls = [e for e in events if e["event"] == "received" and e["method"] == action]
            return calls[count - 1] if len(calls) >= count else None

        return await self.wait_until(nth)

    async def close(self) -> int:
        """Close stdin (the client then closes its WebSocket) and return the exit status."""
        assert self._process.stdin is not None
        self._process.stdin.close()
        async with asyncio.timeout(TIMEOUT_S):
            status = await self._process.wait()
            await asyncio.gather(self._reader, self._stderr_reader)
        return status

    async def kill(self) -> None:
        """End the client if it still runs, and its readers."""
        if self._process.returncode is None:
            self._process.kill()
            await self._process.wait()
        await asyncio.gather(self._reader, self._stderr_reader, return_exceptions=True)


@contextlib.asynccontextmanager
async def node_charge_point(
    endpoint: str, identity: str, password: str | None, *, fail_fast: bool = True
) -> AsyncIterator[NodeChargePoint]:
    """The strict Node charge point connected to `endpoint`/`identity`; on exit it must have reported no
    violation and exit with status 0. With `fail_fast`, a wait fails as soon as a violation is reported."""
    node = node_or_skip()
    args = [str(SCRIPT), endpoint, identity] + ([password] if password else [])
    process = await asyncio.create_subprocess_exec(
        node,
        *args,
        cwd=INTEROP_DIR,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    client = NodeChargePoint(process, fail_fast=fail_fast)
    try:
        connected = await client.wait_for(lambda e: e["event"] in {"connected", "crashed"})
        assert connected["event"] == "connected", connected
        assert connected["protocol"] == "ocpp1.6"
        yield client
        status = await client.close()
    finally:
        await client.kill()
    assert client.violations == [], client.stderr
    assert status == 0, client.stderr
