"""A transaction's meter values as the columns its chart draws: per sample time, the energy register (kWh),
active power (kW; the sum of the phases when only per-phase values came), current per phase (A; `current_a`
when the charge point names no phase) and the EV's state of charge (%). Grid-side (`Inlet`) samples and
values that are not numbers are left out."""

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from app.domain.ocpp import MeterValue

__all__ = ["SERIES", "meter_series"]

SERIES = (
    "energy_kwh",
    "power_kw",
    "current_l1_a",
    "current_l2_a",
    "current_l3_a",
    "current_a",
    "soc_percent",
)
SCALE = {"W": 0.001, "Wh": 0.001, "A": 1.0, "Percent": 1.0}  # from the normalised units


def _column(sample: MeterValue) -> str | None:
    measurand, phase = sample.measurand, (sample.phase or "")[:2]
    if measurand == "Energy.Active.Import.Register" and not phase:
        return "energy_kwh"
    if measurand == "Power.Active.Import":
        return "power_kw" if not phase else "power_phase_kw"
    if measurand == "Current.Import":
        return (
            f"current_{phase.lower()}_a"
            if phase in ("L1", "L2", "L3")
            else "current_a"
            if not phase
            else None
        )
    if measurand == "SoC":
        return "soc_percent"
    return None


def meter_series(values: Sequence[MeterValue]) -> dict[str, list[Any]]:
    rows: dict[float, dict[str, float]] = defaultdict(dict)
    for sample in values:
        column = _column(sample)
        unit = sample.unit_normalised or sample.unit
        if (
            column is None
            or sample.value_normalised is None
            or sample.location == "Inlet"
            or unit not in SCALE
        ):
            continue
        row = rows[sample.timestamp.timestamp()]
        value = sample.value_normalised * SCALE[unit]
        row[column] = row.get(column, 0.0) + value if column == "power_phase_kw" else value
    times = sorted(rows)
    series: dict[str, list[Any]] = {"time": times}
    for name in SERIES:
        series[name] = [rows[t].get(name) for t in times]
    series["power_kw"] = [rows[t].get("power_kw", rows[t].get("power_phase_kw")) for t in times]
    return series
