"""The compiled schema check never accepts what `jsonschema` rejects, so the Table 7 codes stay its own."""

import decimal
import json
from typing import Any

import pytest

from ocpp_gateway import validation

PERIOD = {"startPeriod": 0, "limit": 16.3}
PROFILE = {
    "chargingProfileId": 1,
    "stackLevel": 0,
    "chargingProfilePurpose": "TxProfile",
    "chargingProfileKind": "Absolute",
    "chargingSchedule": {"chargingRateUnit": "A", "chargingSchedulePeriod": [PERIOD]},
}
SAMPLE = {"value": "11", "measurand": "Energy.Active.Import.Register", "unit": "Wh"}
CASES: list[tuple[str, dict[str, Any]]] = [
    ("Heartbeat", {}),
    ("Heartbeat", {"extra": 1}),
    (
        "MeterValues",
        {"connectorId": 1, "meterValue": [{"timestamp": "2026-01-01T00:00:00Z", "sampledValue": [SAMPLE]}]},
    ),
    ("MeterValues", {"connectorId": 1, "meterValue": [{"timestamp": "yesterday", "sampledValue": [SAMPLE]}]}),
    ("MeterValues", {"connectorId": 1.0, "meterValue": []}),
    ("MeterValues", {"connectorId": True, "meterValue": []}),
    ("MeterValues", {"connectorId": 1, "meterValue": [{"timestamp": 5, "sampledValue": [SAMPLE]}]}),
    ("StatusNotification", {"connectorId": 1, "errorCode": "NoError", "status": "Charging"}),
    ("StatusNotification", {"connectorId": 1, "errorCode": "NoError", "status": "Sleeping"}),
    ("StatusNotification", {"connectorId": 1, "errorCode": "NoError"}),
    (
        "StatusNotification",
        {"connectorId": 1, "errorCode": "NoError", "status": "Charging", "info": "x" * 51},
    ),
    ("BootNotification", {"chargePointVendor": "v", "chargePointModel": "m"}),
    ("SetChargingProfile", {"connectorId": 1, "csChargingProfiles": PROFILE}),
    ("SetChargingProfile", {"connectorId": 1, "csChargingProfiles": PROFILE | {"stackLevel": -1}}),
    (
        "SetChargingProfile",
        {
            "connectorId": 1,
            "csChargingProfiles": PROFILE
            | {
                "chargingSchedule": {
                    "chargingRateUnit": "A",
                    "chargingSchedulePeriod": [PERIOD | {"limit": 16.35}],
                }
            },
        },
    ),
]


def _full_check(action: str, payload: dict[str, Any]) -> str | None:
    """What `jsonschema` alone answers: None, or the Table 7 error code."""
    error = validation.best_match(validation._validator(action, False).iter_errors(payload))
    return None if error is None else validation.classify(error).code


def _answer(action: str, payload: dict[str, Any]) -> str | None:
    try:
        validation.validate(action, payload)
    except validation.CallErrorCode as error:
        return error.code
    return None


@pytest.mark.parametrize(("action", "payload"), CASES)
def test_same_answer_as_jsonschema_alone(action: str, payload: dict[str, Any]) -> None:
    parsed = json.loads(json.dumps(payload), parse_float=decimal.Decimal)
    assert _answer(action, payload) == _full_check(action, parsed)


def test_the_cases_hold_valid_and_invalid_payloads() -> None:
    answers = {_answer(action, payload) for action, payload in CASES}
    assert None in answers
    assert len(answers) >= 4
