"""A command's `sent_at` is the time its CALL went out, readable before the charge point answers (issue 18).

The charge point holds its answer until the test has read, over the API, the command as sent and pending;
then it answers, and the outcome keeps that `sent_at`. Whole service, real WebSocket, real database."""

import asyncio
from datetime import datetime
from typing import Any

import pytest
from ocpp.v16 import call

from tests.e2e.service import running_service
from tests.e2e.test_no_stall import DEADLINE_S, hold_answers_until
from tests.gateway.helpers import connect_charge_point, eventually

pytestmark = pytest.mark.anyio


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.mark.parametrize(
    ("action", "payload"),
    [
        ("ClearCache", {}),  # completed by the batched write
        ("GetConfiguration", {"key": ["NumberOfConnectors"]}),  # completed with its side effects
    ],
)
async def test_sent_at_is_stored_when_the_call_goes_out(
    migrated_url: str, action: str, payload: dict[str, Any]
) -> None:
    async with running_service(migrated_url) as service:
        assert (await service.api.post("/charge-points", json={"id": "CP1"})).status_code == 201
        async with connect_charge_point(service.app.state.gateway, "CP1") as cp:
            await cp.call(call.Heartbeat())
            arrived, answer = asyncio.Event(), asyncio.Event()
            hold_answers_until(cp, action, arrived, answer)
            created = await service.api.post(
                "/charge-points/CP1/commands", json={"action": action, "payload": payload}
            )
            assert created.status_code == 202, created.text
            location = created.headers["location"].removeprefix("/api/v1")
            async with asyncio.timeout(DEADLINE_S):
                await arrived.wait()

            async def sent_and_pending() -> dict[str, Any] | None:
                command: dict[str, Any] = (await service.api.get(location)).json()
                return command if command["sent_at"] is not None else None

            sent = await eventually(sent_and_pending, timeout_s=DEADLINE_S)
            assert (sent["status"], sent["completed_at"]) == ("pending", None)
            assert moment(sent["created_at"]) <= moment(sent["sent_at"])
            answer.set()

            async def completed() -> dict[str, Any] | None:
                command: dict[str, Any] = (await service.api.get(location)).json()
                return command if command["status"] != "pending" else None

            done = await eventually(completed, timeout_s=DEADLINE_S)
        assert done["status"] == "accepted"
        assert done["sent_at"] == sent["sent_at"]
        assert moment(done["sent_at"]) <= moment(done["completed_at"])
