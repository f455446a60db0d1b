"""Composite schedule and profile store: OCPP 1.6 §3.13 and §5.5 / §5.16 semantics."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from ocpp.v16.enums import (
    ChargingProfilePurposeType,
    ChargingProfileStatus,
    ChargingRateUnitType,
    ClearChargingProfileStatus,
)

from simulator.composite import (
    ChargingProfile,
    Electrical,
    InstalledProfile,
    Limit,
    Transaction,
    composite_schedule,
    limit_at,
)
from simulator.profiles import ProfileLimits, ProfileStore

T0 = datetime(2013, 4, 1, tzinfo=UTC)
V = 230.0
EL = Electrical(voltage_v=V, max_current_a=32, phases=3, connectors=2)
A = ChargingRateUnitType.amps
W = ChargingRateUnitType.watts


def profile(
    pid: int,
    purpose: str,
    periods: list[tuple[int, float] | tuple[int, float, int]],
    *,
    stack: int = 0,
    kind: str = "Absolute",
    unit: str = "A",
    start: datetime | None = T0,
    duration: int | None = None,
    recurrency: str | None = None,
    valid_from: datetime | None = None,
    valid_to: datetime | None = None,
    transaction_id: int | None = None,
    min_rate: float | None = None,
) -> ChargingProfile:
    schedule: dict[str, Any] = {
        "charging_rate_unit": unit,
        "charging_schedule_period": [
            {"start_period": p[0], "limit": p[1], **({"number_phases": p[2]} if len(p) == 3 else {})}
            for p in periods
        ],
    }
    if start is not None and kind != "Relative":
        schedule["start_schedule"] = start.isoformat()
    if duration is not None:
        schedule["duration"] = duration
    if min_rate is not None:
        schedule["min_charging_rate"] = min_rate
    data: dict[str, Any] = {
        "charging_profile_id": pid,
        "stack_level": stack,
        "charging_profile_purpose": purpose,
        "charging_profile_kind": kind,
        "charging_schedule": schedule,
    }
    for key, value in (
        ("recurrency_kind", recurrency),
        ("valid_from", valid_from and valid_from.isoformat()),
        ("valid_to", valid_to and valid_to.isoformat()),
        ("transaction_id", transaction_id),
    ):
        if value is not None:
            data[key] = value
    return ChargingProfile.from_ocpp(data)


def on(connector_id: int, *profiles: ChargingProfile) -> list[InstalledProfile]:
    return [InstalledProfile(connector_id, p, T0) for p in profiles]


def amps(limit: Limit) -> float:
    return round(limit.current_a(V), 3)


def test_nothing_installed_gives_the_hardware_maximum() -> None:
    assert limit_at([], 1, T0, None, EL) == Limit(32 * V * 3, 3)
    assert limit_at([], 0, T0, None, EL).power_w == pytest.approx(2 * 32 * V * 3)


def test_spec_example_daily_recurring_default_6kw_during_day() -> None:
    # OCPP 1.6 §3.13.4: a TxDefaultProfile, Recurring Daily, 11 kW but 6 kW from 08:00 to 20:00.
    default = profile(
        100,
        "TxDefaultProfile",
        [(0, 11000), (28800, 6000), (72000, 11000)],
        kind="Recurring",
        recurrency="Daily",
        unit="W",
        duration=86400,
    )
    installed = on(0, default)
    tx = Transaction(1, T0 + timedelta(days=3))
    day = T0 + timedelta(days=5)
    assert limit_at(installed, 1, day + timedelta(hours=7, minutes=59), tx, EL).power_w == 11000
    assert limit_at(installed, 2, day + timedelta(hours=8), tx, EL).power_w == 6000
    assert limit_at(installed, 1, day + timedelta(hours=19, minutes=59), tx, EL).power_w == 6000
    assert limit_at(installed, 1, day + timedelta(hours=20), tx, EL).power_w == 11000

    composite = composite_schedule(installed, 1, day + timedelta(hours=6), 86400, tx, EL, W)
    assert [(p.start_period_s, p.limit) for p in composite.periods] == [
        (0, 11000),
        (2 * 3600, 6000),
        (14 * 3600, 11000),
    ]
    two_days = composite_schedule(installed, 1, day + timedelta(hours=6), 2 * 86400, tx, EL, W)
    assert [p.start_period_s for p in two_days.periods] == [0, 2 * 3600, 14 * 3600, 26 * 3600, 38 * 3600]


def test_higher_stack_level_wins_and_lower_shows_through_its_gaps() -> None:
    base = profile(1, "TxDefaultProfile", [(0, 16)], stack=0)
    peak = profile(
        2, "TxDefaultProfile", [(0, 6), (3600, 10)], stack=1, start=T0 + timedelta(hours=1), duration=7200
    )
    installed = on(0, base, peak)
    tx = Transaction(7, T0)
    assert amps(limit_at(installed, 1, T0 + timedelta(minutes=30), tx, EL)) == 16
    assert amps(limit_at(installed, 1, T0 + timedelta(hours=1), tx, EL)) == 6
    assert amps(limit_at(installed, 1, T0 + timedelta(hours=2, minutes=5), tx, EL)) == 10
    assert amps(limit_at(installed, 1, T0 + timedelta(hours=3), tx, EL)) == 16
    composite = composite_schedule(installed, 1, T0, 4 * 3600, tx, EL, A)
    assert [(p.start_period_s, p.limit) for p in composite.periods] == [
        (0, 16),
        (3600, 6),
        (7200, 10),
        (10800, 16),
    ]


def test_tx_profile_overrides_default_even_when_higher_and_max_profile_caps() -> None:
    default = profile(1, "TxDefaultProfile", [(0, 10)], stack=5)
    tx_profile = profile(2, "TxProfile", [(0, 20)], transaction_id=42)
    cap = profile(3, "ChargePointMaxProfile", [(0, 16)])
    tx = Transaction(42, T0)
    assert amps(limit_at(on(0, default) + on(1, tx_profile), 1, T0, tx, EL)) == 20
    assert amps(limit_at(on(0, default, cap) + on(1, tx_profile), 1, T0, tx, EL)) == 16
    # The TxProfile belongs to its transaction only; the other connector keeps the default.
    assert amps(limit_at(on(0, default) + on(1, tx_profile), 2, T0, Transaction(43, T0), EL)) == 10
    # Another transaction on the same connector does not use it.
    assert amps(limit_at(on(0, default) + on(1, tx_profile), 1, T0, Transaction(99, T0), EL)) == 10
    # Without a transaction, no TxProfile applies.
    assert amps(limit_at(on(1, tx_profile), 1, T0, None, EL)) == 32


def test_connector_specific_default_shadows_connector_zero() -> None:
    general = profile(1, "TxDefaultProfile", [(0, 10)], stack=3)
    specific = profile(2, "TxDefaultProfile", [(0, 14)], stack=0)
    installed = on(0, general) + on(2, specific)
    assert amps(limit_at(installed, 1, T0, Transaction(1, T0), EL)) == 10
    assert amps(limit_at(installed, 2, T0, Transaction(2, T0), EL)) == 14


def test_relative_profile_starts_at_the_transaction() -> None:
    relative = profile(1, "TxProfile", [(0, 8), (1800, 16)], kind="Relative", start=None)
    tx = Transaction(1, T0 + timedelta(hours=5))
    installed = on(1, relative)
    assert amps(limit_at(installed, 1, T0 + timedelta(hours=5, minutes=29), tx, EL)) == 8
    assert amps(limit_at(installed, 1, T0 + timedelta(hours=5, minutes=30), tx, EL)) == 16


def test_valid_from_and_valid_to_bound_a_profile() -> None:
    bounded = profile(
        1,
        "ChargePointMaxProfile",
        [(0, 6)],
        valid_from=T0 + timedelta(hours=1),
        valid_to=T0 + timedelta(hours=2),
    )
    installed = on(0, bounded)
    assert amps(limit_at(installed, 0, T0, None, EL)) == 64
    assert amps(limit_at(installed, 0, T0 + timedelta(hours=1), None, EL)) == 6
    assert amps(limit_at(installed, 1, T0 + timedelta(hours=1, minutes=59), Transaction(1, T0), EL)) == 6
    assert amps(limit_at(installed, 0, T0 + timedelta(hours=2), None, EL)) == 64


def test_weekly_recurrence_repeats_after_seven_days() -> None:
    weekly = profile(
        1, "ChargePointMaxProfile", [(0, 10), (86400, 20)], kind="Recurring", recurrency="Weekly"
    )  # T0 is a Monday
    installed = on(0, weekly)
    assert amps(limit_at(installed, 0, T0 + timedelta(days=7, hours=3), None, EL)) == 10
    assert amps(limit_at(installed, 0, T0 + timedelta(days=8, hours=3), None, EL)) == 20
    assert amps(limit_at(installed, 0, T0 - timedelta(hours=1), None, EL)) == 64


def test_watts_and_amps_convert_with_phases_and_voltage() -> None:
    one_phase = profile(1, "TxDefaultProfile", [(0, 16, 1)])
    three_phase_w = profile(2, "TxDefaultProfile", [(0, 6900)], unit="W", stack=1, duration=3600)
    tx = Transaction(1, T0)
    assert limit_at(on(0, one_phase), 1, T0, tx, EL) == Limit(16 * V, 1)
    limit = limit_at(on(0, one_phase, three_phase_w), 1, T0, tx, EL)
    assert limit == Limit(6900, 3)
    assert amps(limit) == 10
    composite = composite_schedule(on(0, one_phase, three_phase_w), 1, T0, 7200, tx, EL, A)
    assert [(p.start_period_s, p.limit, p.number_phases) for p in composite.periods] == [
        (0, 10, 3),
        (3600, 16, 1),
    ]
    composite_w = composite_schedule(on(0, one_phase, three_phase_w), 1, T0, 7200, tx, EL, W)
    assert [p.limit for p in composite_w.periods] == [6900, 3680]


def test_composite_rounds_down_and_reports_min_charging_rate() -> None:
    odd = profile(1, "TxProfile", [(0, 4000)], unit="W", min_rate=1380, transaction_id=1)
    composite = composite_schedule(on(1, odd), 1, T0, 600, Transaction(1, T0), EL, A)
    assert composite.periods[0].limit == 5.7  # 4000 / 690 = 5.797
    assert composite.min_charging_rate == 2.0
    ocpp_form = composite.to_ocpp()
    assert ocpp_form["charging_rate_unit"] == "A"
    assert ocpp_form["charging_schedule_period"][0] == {"start_period": 0, "limit": 5.7, "number_phases": 3}


def test_duration_ends_an_absolute_profile() -> None:
    short = profile(1, "ChargePointMaxProfile", [(0, 8)], duration=900)
    assert amps(limit_at(on(0, short), 0, T0 + timedelta(seconds=899), None, EL)) == 8
    assert amps(limit_at(on(0, short), 0, T0 + timedelta(seconds=900), None, EL)) == 64


def test_charge_point_max_is_the_only_thing_on_connector_zero() -> None:
    default = profile(1, "TxDefaultProfile", [(0, 6)])
    cap = profile(2, "ChargePointMaxProfile", [(0, 40)])
    composite = composite_schedule(on(0, default, cap), 0, T0, 3600, None, EL, A)
    assert [(p.start_period_s, p.limit) for p in composite.periods] == [(0, 40)]


# ---- store ---------------------------------------------------------------------------------------------


class Running:
    def __init__(self) -> None:
        self.tx: dict[int, Transaction] = {}

    def __call__(self, connector_id: int) -> Transaction | None:
        return self.tx.get(connector_id)


@pytest.fixture
def running() -> Running:
    return Running()


@pytest.fixture
def store(running: Running) -> ProfileStore:
    return ProfileStore(EL, running, ProfileLimits(max_stack_level=3, max_periods=4, max_installed=4))


def test_same_id_replaces_across_connectors(store: ProfileStore) -> None:
    assert store.set(1, profile(9, "TxDefaultProfile", [(0, 10)]), T0) == ChargingProfileStatus.accepted
    assert (
        store.set(2, profile(9, "TxDefaultProfile", [(0, 12)], stack=1), T0) == ChargingProfileStatus.accepted
    )
    assert [(p.connector_id, p.profile.id) for p in store.installed] == [(2, 9)]


def test_same_stack_level_and_purpose_replaces(store: ProfileStore) -> None:
    store.set(0, profile(1, "TxDefaultProfile", [(0, 10)], stack=1), T0)
    store.set(0, profile(2, "TxDefaultProfile", [(0, 12)], stack=1), T0)
    store.set(0, profile(3, "ChargePointMaxProfile", [(0, 30)], stack=1), T0)
    store.set(1, profile(4, "TxDefaultProfile", [(0, 11)], stack=1), T0)
    assert sorted(p.profile.id for p in store.installed) == [2, 3, 4]


def test_rejections_follow_the_capabilities_and_purposes(store: ProfileStore, running: Running) -> None:
    rejected = ChargingProfileStatus.rejected
    assert store.set(0, profile(1, "TxDefaultProfile", [(0, 10)], stack=4), T0) == rejected
    assert store.set(0, profile(1, "TxDefaultProfile", [(i * 60, 10) for i in range(5)]), T0) == rejected
    assert store.set(1, profile(1, "ChargePointMaxProfile", [(0, 10)]), T0) == rejected
    assert store.set(1, profile(1, "TxProfile", [(0, 10)]), T0) == rejected  # no transaction
    assert store.set(3, profile(1, "TxDefaultProfile", [(0, 10)]), T0) == rejected
    running.tx[1] = Transaction(5, T0)
    assert store.set(0, profile(1, "TxProfile", [(0, 10)]), T0) == rejected
    assert store.set(1, profile(1, "TxProfile", [(0, 10)], transaction_id=6), T0) == rejected
    assert store.set(1, profile(1, "TxProfile", [(0, 10)]), T0) == ChargingProfileStatus.accepted
    assert store.installed[0].profile.transaction_id == 5
    assert amps(store.limit(1, T0)) == 10
    store.end_transaction(1)
    assert store.installed == ()


def test_watts_refused_when_the_charge_point_only_does_amps(running: Running) -> None:
    amps_only = ProfileStore(EL, running, ProfileLimits(allowed_units=(A,)))
    assert (
        amps_only.set(0, profile(1, "TxDefaultProfile", [(0, 7000)], unit="W"), T0)
        == ChargingProfileStatus.rejected
    )


def test_installed_count_is_limited(store: ProfileStore) -> None:
    for pid in range(4):
        assert (
            store.set(0, profile(pid, "TxDefaultProfile", [(0, 10)], stack=pid), T0)
            == ChargingProfileStatus.accepted
        )
    assert store.set(1, profile(10, "TxDefaultProfile", [(0, 10)]), T0) == ChargingProfileStatus.rejected
    assert (
        store.set(0, profile(11, "TxDefaultProfile", [(0, 9)], stack=0), T0) == ChargingProfileStatus.accepted
    )


def test_clear_by_id_ignores_other_criteria_then_by_criteria(store: ProfileStore) -> None:
    store.set(0, profile(1, "TxDefaultProfile", [(0, 10)], stack=0), T0)
    store.set(0, profile(2, "TxDefaultProfile", [(0, 10)], stack=1), T0)
    store.set(1, profile(3, "TxDefaultProfile", [(0, 10)], stack=1), T0)
    store.set(0, profile(4, "ChargePointMaxProfile", [(0, 10)], stack=1), T0)
    assert store.clear(profile_id=1, connector_id=2) == ClearChargingProfileStatus.accepted
    assert store.clear(profile_id=1) == ClearChargingProfileStatus.unknown
    assert store.clear(
        connector_id=0, stack_level=1, purpose=ChargingProfilePurposeType.tx_default_profile
    ) == (ClearChargingProfileStatus.accepted)
    assert sorted(p.profile.id for p in store.installed) == [3, 4]
    assert store.clear(stack_level=1) == ClearChargingProfileStatus.accepted
    assert store.installed == ()
    assert store.clear() == ClearChargingProfileStatus.unknown


def test_store_composite_answers_get_composite_schedule(store: ProfileStore, running: Running) -> None:
    running.tx[1] = Transaction(8, T0)
    store.set(0, profile(1, "ChargePointMaxProfile", [(0, 20)]), T0)
    store.set(1, profile(2, "TxProfile", [(0, 10), (600, 25)]), T0)
    composite = store.composite(1, T0, 1200, A)
    assert [(p.start_period_s, p.limit) for p in composite.periods] == [(0, 10), (600, 20)]
    assert [(p.start_period_s, p.limit) for p in store.composite(0, T0, 1200).periods] == [(0, 20)]


def test_a_minimum_rate_parsed_as_a_decimal_is_a_number() -> None:
    """The `ocpp` package hands JSON numbers with a fraction over as `Decimal`s."""
    odd = profile(1, "TxProfile", [(0, 16.0)], min_rate=Decimal("6.0"), transaction_id=1)  # type: ignore[arg-type]
    composite = composite_schedule(on(1, odd), 1, T0, 600, Transaction(1, T0), EL, A)
    assert composite.min_charging_rate == 6.0
