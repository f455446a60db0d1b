"""Meter values: stored as charge points send them (replays ignored), and summarised for scheduling.

The rows, their normalised values and dedup keys are `app.domain.metering`'s.
"""

import functools
from collections.abc import Iterable, Sequence
from datetime import datetime

from app.domain.bus import EventBus
from app.domain.clock import as_utc
from app.domain.events import MeterSample, MeterValuesReceived
from app.domain.metering import MeterValuesMessage, SampledValue, build_rows, normalise
from app.domain.persistence import Store, UnitOfWork

PHASES = ("L1", "L2", "L3", "L1-N", "L2-N", "L3-N")
CARRYING_A = 1.0  # a phase with at least this current is in use


async def receive(store: Store, bus: EventBus, message: MeterValuesMessage) -> None:
    """Store a MeterValues message in the group commit; once stored, announce it if anything was new."""
    transaction_id, new = await store.batched.store_meter_values(message)
    if new:
        summary = functools.partial(summarise, message.samples)
        bus.publish(
            MeterValuesReceived(message.charge_point_id, message.connector_id, transaction_id, summary)
        )


async def store_samples(
    uow: UnitOfWork,
    charge_point_id: str,
    connector_id: int,
    transaction_id: int | None,
    samples: Sequence[SampledValue],
    *,
    source: str,
    now: datetime,
) -> int:
    """Insert the samples not stored before (by dedup key); returns how many were new."""
    rows = build_rows(charge_point_id, connector_id, transaction_id, samples, source, now)
    return len(await uow.meter_values.add_new(list(rows.values())))


def summarise(samples: Iterable[SampledValue]) -> tuple[MeterSample, ...]:
    """Per timestamp: active import power (W), energy register (Wh), highest phase current (A), SoC (%)."""
    by_time: dict[datetime, list[SampledValue]] = {}
    for sample in samples:
        if sample.location in ("Outlet", "EV"):
            by_time.setdefault(as_utc(sample.timestamp), []).append(sample)
    return tuple(_summary(timestamp, group) for timestamp, group in sorted(by_time.items()))


def _summary(timestamp: datetime, samples: list[SampledValue]) -> MeterSample:
    values: dict[str, list[tuple[str | None, float]]] = {}
    for sample in samples:
        number, _unit = normalise(sample.value, sample.effective_unit, sample.format)
        if number is not None:
            values.setdefault(sample.measurand, []).append((sample.phase, number))

    def total(measurand: str) -> float | None:
        found = values.get(measurand)
        if not found:
            return None
        whole = [number for phase, number in found if phase is None]
        if whole:
            return whole[0]
        per_phase = [number for phase, number in found if phase in PHASES]
        return sum(per_phase) if per_phase else None

    currents = [number for _phase, number in values.get("Current.Import", [])]
    per_phase = {phase[:2]: a for phase, a in values.get("Current.Import", []) if phase in PHASES}
    carrying = sum(1 for a in per_phase.values() if a >= CARRYING_A)
    return MeterSample(
        timestamp=timestamp,
        power_w=total("Power.Active.Import"),
        energy_wh=total("Energy.Active.Import.Register"),
        current_a=max(currents) if currents else None,
        soc_percent=total("SoC"),
        phases=carrying if carrying else None,
    )
