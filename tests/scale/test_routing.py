"""Commands across processes: a command posted to an `api` process reaches the charge point on the
`gateway` process holding it (over Redis), and its outcome comes back with the statuses of one process."""

from typing import Any

import pytest

from app.domain.enums import CommandStatus
from app.domain.ports import CommandRefused
from tests.gateway.helpers import NO_ANSWER, ErrorReply, connect_charge_point, eventually
from tests.scale.helpers import Layout, Process

pytestmark = pytest.mark.anyio


async def connected(api: Process, cp_id: str, expected: bool = True) -> bool:
    response = await api.http.get(f"/api/v1/charge-points/{cp_id}")
    return response.status_code == 200 and response.json()["connected"] is expected


async def command(api: Process, command_id: int) -> dict[str, Any]:
    response = await api.http.get(f"/api/v1/commands/{command_id}")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


async def test_a_command_posted_to_the_api_reaches_the_charge_point_on_another_gateway(
    layout: Layout,
) -> None:
    gateway = await layout.start("gateway")
    api = await layout.start("api")
    async with connect_charge_point(gateway.app.state.gateway, "CP1") as cp:
        await eventually(lambda: connected(api, "CP1"))
        posted = await api.http.post(
            "/api/v1/charge-points/CP1/commands", json={"action": "Reset", "payload": {"type": "Soft"}}
        )
        assert posted.status_code == 202, posted.text
        assert await cp.wait_for_call("Reset") == {"type": "Soft"}

        async def answered() -> dict[str, Any] | None:
            body = await command(api, posted.json()["id"])
            return body if body["status"] != "pending" else None

        body = await eventually(answered)
        assert body["status"] == "accepted"
        assert body["response"] == {"status": "Accepted"}
        assert body["sent_at"] is not None


async def test_outcomes_come_back_to_the_caller_with_the_statuses_of_one_process(layout: Layout) -> None:
    gateway = await layout.start("gateway", ocpp_call_timeout_s=0.5)
    api = await layout.start("api")
    commands = api.app.state.commands
    async with connect_charge_point(gateway.app.state.gateway, "CP1") as cp:
        await eventually(lambda: commands.is_connected("CP1"))
        cp.responses["ChangeAvailability"] = {"status": "Rejected"}
        cp.responses["ClearCache"] = ErrorReply("NotSupported", "no cache here")
        cp.responses["UnlockConnector"] = NO_ANSWER

        command_id, outcome = await commands.call(
            "CP1", "ChangeAvailability", {"connectorId": 0, "type": "Inoperative"}
        )
        assert outcome.status == CommandStatus.rejected
        assert outcome.response == {"status": "Rejected"}
        assert (await command(api, command_id))["status"] == "rejected"

        _, outcome = await commands.call("CP1", "ClearCache", {})
        assert (outcome.status, outcome.error_code) == (CommandStatus.error, "NotSupported")

        _, outcome = await commands.call("CP1", "UnlockConnector", {"connectorId": 1})
        assert outcome.status == CommandStatus.timeout
        assert outcome.error_description == "no answer in 0.5 s"


async def test_a_charge_point_nobody_holds_is_not_connected(layout: Layout) -> None:
    await layout.start("gateway")
    api = await layout.start("api")
    created = await api.http.post("/api/v1/charge-points", json={"id": "CP9"})
    assert created.status_code == 201, created.text
    posted = await api.http.post(
        "/api/v1/charge-points/CP9/commands", json={"action": "Reset", "payload": {"type": "Soft"}}
    )
    assert posted.status_code == 409, posted.text
    assert "CP9 is not connected" in posted.json()["detail"]
    refused = await api.http.post(
        "/api/v1/charge-points/CP9/commands", json={"action": "Reset", "payload": {"type": "Sideways"}}
    )
    assert refused.status_code == 422  # checked before the presence is looked up, as in one process
    with pytest.raises(CommandRefused, match="CP9 is not connected") as refusal:
        await api.app.state.commands.call("CP9", "Reset", {"type": "Hard"})
    assert refusal.value.reason == "not_connected"
