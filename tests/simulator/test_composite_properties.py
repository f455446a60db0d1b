"""Property: the composite schedule agrees with the instant-by-instant limit everywhere in its window."""

import math
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from ocpp.v16.enums import ChargingRateUnitType

from simulator.composite import (
    ChargingProfile,
    Electrical,
    InstalledProfile,
    Transaction,
    composite_schedule,
    limit_at,
)

T0 = datetime(2024, 3, 4, tzinfo=UTC)
EL = Electrical(voltage_v=230, max_current_a=32, phases=3, connectors=2)
HOUR = 3600


@st.composite
def profiles(draw: st.DrawFn, pid: int) -> InstalledProfile:
    purpose = draw(st.sampled_from(["ChargePointMaxProfile", "TxDefaultProfile", "TxProfile"]))
    connector = (
        0
        if purpose == "ChargePointMaxProfile"
        else draw(st.sampled_from([1, 2] if purpose == "TxProfile" else [0, 1, 2]))
    )
    kind = draw(st.sampled_from(["Absolute", "Recurring", "Relative"]))
    unit = draw(st.sampled_from(["A", "W"]))
    starts = sorted(draw(st.sets(st.integers(1, 36).map(lambda n: n * 600), max_size=3)))
    limit = st.integers(0, 40) if unit == "A" else st.integers(0, 22).map(lambda kw: kw * 1000)
    periods: list[dict[str, Any]] = [
        {"start_period": s, "limit": draw(limit), "number_phases": draw(st.sampled_from([None, 1, 3]))}
        for s in [0, *starts]
    ]
    schedule: dict[str, Any] = {"charging_rate_unit": unit, "charging_schedule_period": periods}
    if kind != "Relative":
        schedule["start_schedule"] = (T0 + timedelta(seconds=draw(st.integers(-12, 12)) * HOUR)).isoformat()
    if draw(st.booleans()):
        schedule["duration"] = draw(st.integers(1, 24)) * 1800
    data: dict[str, Any] = {
        "charging_profile_id": pid,
        "stack_level": draw(st.integers(0, 3)),
        "charging_profile_purpose": purpose,
        "charging_profile_kind": kind,
        "charging_schedule": schedule,
    }
    if kind == "Recurring":
        data["recurrency_kind"] = draw(st.sampled_from(["Daily", "Weekly"]))
    if draw(st.booleans()):
        data["valid_from"] = (T0 + timedelta(minutes=draw(st.integers(0, 1440)))).isoformat()
    if draw(st.booleans()):
        data["valid_to"] = (T0 + timedelta(minutes=draw(st.integers(0, 2880)))).isoformat()
    if purpose == "TxProfile" and draw(st.booleans()):
        data["transaction_id"] = draw(st.sampled_from([1, 2]))
    installed_at = T0 - timedelta(hours=draw(st.integers(0, 30)))
    return InstalledProfile(connector, ChargingProfile.from_ocpp(data), installed_at)


@st.composite
def situations(draw: st.DrawFn) -> tuple[list[InstalledProfile], Transaction, datetime]:
    count = draw(st.integers(0, 6))
    installed = [draw(profiles(pid)) for pid in range(count)]
    transaction = Transaction(1, T0 + timedelta(minutes=draw(st.integers(-600, 600))))
    start = T0 + timedelta(minutes=draw(st.integers(0, 24 * 60)))
    return installed, transaction, start


def floor_tenth(value: float) -> float:
    return math.floor(value * 10 + 1e-6) / 10


@settings(max_examples=150, deadline=None)
@given(situations(), st.lists(st.integers(0, 86399), min_size=1, max_size=30), st.sampled_from([0, 1, 2]))
def test_composite_matches_limit_at_every_instant(
    situation: tuple[list[InstalledProfile], Transaction, datetime], offsets: list[int], connector: int
) -> None:
    installed, transaction, start = situation
    tx = transaction if connector == 1 else None
    composite = composite_schedule(installed, connector, start, 86400, tx, EL, ChargingRateUnitType.watts)
    starts = [p.start_period_s for p in composite.periods]
    assert starts[0] == 0
    assert starts == sorted(set(starts))
    ceiling = EL.connector_max.power_w * (2 if connector == 0 else 1)
    for offset in offsets:
        period = [p for p in composite.periods if p.start_period_s <= offset][-1]
        expected = limit_at(installed, connector, start + timedelta(seconds=offset), tx, EL)
        assert period.limit == floor_tenth(expected.power_w)
        assert 0 <= period.limit <= ceiling
        cap = limit_at(
            [p for p in installed if p.profile.purpose == "ChargePointMaxProfile"],
            0,
            start + timedelta(seconds=offset),
            None,
            EL,
        )
        assert period.limit <= floor_tenth(cap.power_w) + 1e-9
