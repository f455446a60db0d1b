"""Electric vehicles: a model (battery, AC charger) and a battery that tapers near full."""

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from simulator.composite import Limit

TAPER_START_SOC = 0.8
TAPER_END_FACTOR = 0.1  # the CV phase ends at a tenth of the power
MIN_CURRENT_A = 6.0  # IEC 61851: below 6 A per phase an EV does not charge
FULL_SOC = 0.999


@dataclass(frozen=True)
class EVModel:
    name: str
    battery_kwh: float
    max_ac_kw: float
    phases: int
    registrations: int

    def max_current_a(self, voltage_v: float) -> float:
        return self.max_ac_kw * 1000 / (voltage_v * self.phases)


def phases_for(max_ac_kw: float) -> int:
    """On-board chargers up to 7.4 kW are single-phase (16 or 32 A); above, three-phase."""
    return 1 if max_ac_kw <= 7.4 else 3


def load_ev_models(path: Path | None = None) -> tuple[EVModel, ...]:
    """The 13 EV models of `ev_specs.json` (battery kWh, max AC kW, registrations as sampling weight)."""
    text = (
        path.read_text()
        if path is not None
        else resources.files("simulator").joinpath("data/ev_specs.json").read_text()
    )
    return tuple(
        EVModel(
            name=name,
            battery_kwh=float(spec["battery_capacity"]),
            max_ac_kw=float(spec["max_ac_charge_power"]),
            phases=phases_for(float(spec["max_ac_charge_power"])),
            registrations=int(spec["number_of_registrations"]),
        )
        for name, spec in json.loads(text).items()
    )


def taper_factor(soc: float) -> float:
    """CC-CV-like: full power up to TAPER_START_SOC, then linearly down to TAPER_END_FACTOR at full."""
    if soc <= TAPER_START_SOC:
        return 1.0
    if soc >= 1.0:
        return 0.0
    return 1.0 - (1.0 - TAPER_END_FACTOR) * (soc - TAPER_START_SOC) / (1.0 - TAPER_START_SOC)


class EV:
    """One plugged-in EV: state of charge and the energy its driver wants (to `target_soc`)."""

    def __init__(self, model: EVModel, soc: float, target_soc: float = 1.0):
        self.model = model
        self.soc = soc
        self.target_soc = min(1.0, target_soc)
        self.energy_kwh = 0.0

    @property
    def full(self) -> bool:
        return self.soc >= min(self.target_soc, FULL_SOC)

    def max_power_w(self) -> float:
        """What the EV would take now without any limit from the charge point."""
        if self.full:
            return 0.0
        return self.model.max_ac_kw * 1000 * taper_factor(self.soc)

    def power_w(self, limit: Limit, voltage_v: float) -> float:
        """min(own maximum incl. taper, the charge point's limit); 0 when the limit is under 6 A per phase."""
        current_a = min(limit.current_a(voltage_v), self.model.max_current_a(voltage_v))
        if current_a < MIN_CURRENT_A:
            return 0.0
        phases = min(self.model.phases, limit.phases)
        return min(current_a * voltage_v * phases, self.max_power_w())

    def phases_used(self, limit: Limit) -> int:
        return min(self.model.phases, limit.phases)

    def charge(self, power_w: float, seconds: float) -> float:
        """Take `power_w` for `seconds` (stopping at the target); the energy taken in kWh."""
        room_kwh = max(0.0, (self.target_soc - self.soc) * self.model.battery_kwh)
        energy_kwh = min(power_w * seconds / 3.6e6, room_kwh)
        self.soc += energy_kwh / self.model.battery_kwh
        self.energy_kwh += energy_kwh
        return energy_kwh
