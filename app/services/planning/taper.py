"""How long an EV near full takes for its last kWh (pure).

A lithium battery charges at constant current up to a state of charge, then at constant voltage: the power it
takes falls as it fills (the CC-CV taper). The optimiser plans each session at a flat maximum, so a plan that
finishes a session's energy just before its departure leaves the tail undelivered: the EV cannot take it that
fast. Where the charge point reports the EV's state of charge, the time the taper adds is known, and the
session is planned to have its energy that much earlier (`problem._deadline`).

The model is the two-stage one of Caltech's ACN-Sim (`Linear2StageBattery`): full power up to `start_soc`,
then falling linearly with the state of charge, to `end_factor` of it at full. The battery's usable
capacity is learnt from the meter: energy delivered over the rise in state of charge (`EvTrace.battery`).
"""

import math
from dataclasses import dataclass

__all__ = ["TaperModel", "taper_hours"]


@dataclass(frozen=True)
class TaperModel:
    start_soc: float = 0.8  # the taper starts here (fraction of full)
    end_factor: float = 0.1  # at full, the EV takes this share of its maximum

    @property
    def slope(self) -> float:
        """The fall of the power factor per unit of state of charge, in the taper."""
        return (1.0 - self.end_factor) / (1.0 - self.start_soc)

    def factor(self, soc: float) -> float:
        """The share of its maximum an EV at `soc` can take."""
        return 1.0 - self.slope * min(1.0, max(0.0, soc - self.start_soc))

    def hours_per_kw(self, soc_from: float, soc_to: float, battery_kwh: float) -> float:
        """Hours × kW of maximum to charge from `soc_from` to `soc_to`: ∫ battery / factor(soc) dsoc."""
        flat = max(0.0, min(soc_to, self.start_soc) - soc_from)
        low, high = max(soc_from, self.start_soc), soc_to
        tapered = math.log(self.factor(low) / self.factor(high)) / self.slope if high > low else 0.0
        return battery_kwh * (flat + tapered)


def taper_hours(
    soc: float, battery_kwh: float, energy_kwh: float, power_kw: float, model: TaperModel = TaperModel()
) -> float:
    """The hours an EV at `soc` (of a `battery_kwh` battery), taking `power_kw` now, needs for `energy_kwh`
    beyond the `energy_kwh / power_kw` a flat plan assumes (0 when the taper does not reach it)."""
    if energy_kwh <= 0 or power_kw <= 0 or battery_kwh <= 0:
        return 0.0
    soc = min(max(soc, 0.0), 1.0)
    target = min(soc + energy_kwh / battery_kwh, 1.0)
    if target <= model.start_soc:
        return 0.0
    # `power_kw` is what it takes at `soc`: its maximum, scaled down by the taper it is already in
    maximum_kw = power_kw / model.factor(soc)
    needed_h = model.hours_per_kw(soc, target, battery_kwh) / maximum_kw
    return max(0.0, needed_h - energy_kwh / power_kw)
