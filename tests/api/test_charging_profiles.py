"""The charging profiles a charge point holds (`GET /charge-points/{id}/charging-profiles`): the
SetChargingProfile requests it accepted, less those replaced (same id; same connector, stack level and
purpose), cleared (by id, or by the criteria given), ended with their transaction or past their validTo."""

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from app.domain.enums import Role
from app.domain.ocpp import Command
from app.services.ocpp.reporting.profiles import replay
from tests.api import seed
from tests.api.conftest import Api, problem

NOW = datetime(2026, 12, 7, 12, tzinfo=UTC)


def profile(profile_id: int, purpose: str, stack_level: int = 0, **more: Any) -> dict[str, Any]:
    return {
        "chargingProfileId": profile_id,
        "stackLevel": stack_level,
        "chargingProfilePurpose": purpose,
        "chargingProfileKind": "Absolute",
        "chargingSchedule": {
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16}],
        },
        **more,
    }


def sent(command_id: int, connector_id: int, charging_profile: dict[str, Any]) -> Command:
    payload = {"connectorId": connector_id, "csChargingProfiles": charging_profile}
    return Command(id=command_id, charge_point_id="CP1", action="SetChargingProfile", payload=payload)


def cleared(command_id: int, **criteria: Any) -> Command:
    return Command(id=command_id, charge_point_id="CP1", action="ClearChargingProfile", payload=criteria)


def held(commands: list[Command], active: dict[int, int] | None = None) -> list[tuple[int, int]]:
    """(connector, profile id) of what is held, by connector, purpose and stack level."""
    return [(p.connector_id, p.profile_id) for p in replay(commands, active or {}, NOW)]


def test_a_later_profile_replaces_one_with_its_id_or_its_connector_stack_level_and_purpose() -> None:
    default = sent(1, 0, profile(1, "TxDefaultProfile"))
    assert held([default, sent(2, 0, profile(1, "TxDefaultProfile", limit=1))]) == [(0, 1)]
    assert held([default, sent(2, 1, profile(1, "ChargePointMaxProfile"))]) == [(1, 1)]  # same id elsewhere
    assert held([default, sent(2, 0, profile(5, "TxDefaultProfile"))]) == [(0, 5)]  # same level and purpose
    assert held([default, sent(2, 0, profile(5, "TxDefaultProfile", stack_level=1))]) == [(0, 1), (0, 5)]
    assert held([default, sent(2, 1, profile(5, "TxDefaultProfile"))]) == [(0, 1), (1, 5)]


def test_clearing_by_id_or_by_the_criteria_given() -> None:
    three = [
        sent(1, 0, profile(1, "TxDefaultProfile")),
        sent(2, 0, profile(2, "ChargePointMaxProfile", stack_level=3)),
        sent(3, 1, profile(3, "TxDefaultProfile", stack_level=2)),
    ]
    assert held([*three, cleared(4, id=2)]) == [(0, 1), (1, 3)]
    assert held([*three, cleared(4, id=2, connectorId=1)]) == [(0, 1), (1, 3)]  # an id: the rest ignored
    assert held([*three, cleared(4, chargingProfilePurpose="TxDefaultProfile")]) == [(0, 2)]
    assert held([*three, cleared(4, connectorId=0, stackLevel=3)]) == [(0, 1), (1, 3)]
    assert held([*three, cleared(4, connectorId=1, chargingProfilePurpose="ChargePointMaxProfile")]) == [
        (0, 2),
        (0, 1),
        (1, 3),
    ]
    assert held([*three, cleared(4)]) == []
    assert held([cleared(1), *three]) == [(0, 2), (0, 1), (1, 3)]  # only what came before


def test_a_tx_profile_ends_with_its_transaction_and_any_profile_at_its_valid_to() -> None:
    tx = sent(1, 1, profile(1_000_042, "TxProfile", stack_level=1, transactionId=42))
    assert held([tx], active={42: 1}) == [(1, 1_000_042)]
    assert held([tx], active={43: 1}) == []
    untied = sent(2, 2, profile(9, "TxProfile", stack_level=1))  # the transaction under way on connector 2
    assert held([untied], active={43: 2}) == [(2, 9)]
    assert held([untied], active={43: 1}) == []
    ending = (NOW + timedelta(minutes=1)).isoformat().replace("+00:00", "Z")
    ended = (NOW - timedelta(minutes=1)).isoformat().replace("+00:00", "Z")
    assert held([sent(3, 0, profile(3, "ChargePointMaxProfile", validTo=ending))]) == [(0, 3)]
    assert held([sent(3, 0, profile(3, "ChargePointMaxProfile", validTo=ended))]) == []


async def send(operator: httpx.AsyncClient, action: str, payload: dict[str, Any]) -> None:
    response = await operator.post(
        "/charge-points/CP1/commands", params={"wait": True}, json={"action": action, "payload": payload}
    )
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "accepted"


@pytest.mark.anyio
async def test_the_api_lists_what_a_charge_point_holds(api: Api, operator: httpx.AsyncClient) -> None:
    await seed.charge_point(api.database, "CP1")
    transaction = await seed.transaction(api.database, "CP1", NOW - timedelta(hours=1), connector_id=1)
    finished = await seed.transaction(
        api.database, "CP1", NOW - timedelta(hours=3), stop=NOW - timedelta(hours=2)
    )
    api.commands.connected.add("CP1")
    assert (await operator.get("/charge-points/CP1/charging-profiles")).json() == []

    await send(
        operator,
        "SetChargingProfile",
        {"connectorId": 0, "csChargingProfiles": profile(1, "TxDefaultProfile")},
    )
    await send(
        operator,
        "SetChargingProfile",
        {"connectorId": 0, "csChargingProfiles": profile(2, "ChargePointMaxProfile", 2)},
    )
    for tx in (finished, transaction):  # in the order they charged
        tx_profile = profile(1_000_000 + tx.id, "TxProfile", 1, transactionId=tx.id)
        await send(operator, "SetChargingProfile", {"connectorId": 1, "csChargingProfiles": tx_profile})
    await send(operator, "ClearChargingProfile", {"id": 2})

    response = await operator.get("/charge-points/CP1/charging-profiles")
    assert response.status_code == 200, response.text
    listed = response.json()
    assert [(p["connector_id"], p["purpose"], p["charging_profile_id"]) for p in listed] == [
        (0, "TxDefaultProfile", 1),
        (1, "TxProfile", 1_000_000 + transaction.id),
    ]
    assert listed[1]["profile"]["transactionId"] == transaction.id
    assert listed[1]["author"] == "test operator"
    assert listed[1]["accepted_at"] is not None

    assert (
        "not registered"
        in problem(await operator.get("/charge-points/NOPE/charging-profiles"), 404)["detail"]
    )
    grid = await api.client(Role.grid_operator, site_ids=[])
    assert (await grid.get("/charge-points/CP1/charging-profiles")).status_code == 404
