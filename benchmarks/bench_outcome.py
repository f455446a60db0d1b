"""What the drivers get, end to end: simulated days of the whole service against the hindsight bound.

Per site kind (workplace, home: ElaadNL arrival and dwell statistics; EVs from the ElaadNL models, single- and
three-phase) and seed, one simulated day as `make demo` runs it: the service (API, OCPP server, scheduler) on
SQLite with 20 simulated charge points × 2 connectors under a grid operator's forecast, each visit's energy
and departure told through the API as a driver's app would. Measured in the same run:

- the **hindsight bound**: an LP that knows every visit and its EV (on-board charger, phases, taper);
- the **online rule**: earliest departure first, phase- and 6 A-aware, knowing each EV's draw at every
  minute (no foresight): the baseline the service must not fall below;
- violations of the forecast, profile periods between 0 and 6 A, promises kept (the driver's stated energy,
  where the hindsight LP could meet it), a new transaction's wait for its first profile.

The clock runs `SPEED` times faster than real time. The service's own latency (debounce, solve, round trips:
about 0.1-0.25 s of wall time) is stretched by the same factor, so the faster the clock, the more energy
new sessions lose waiting for their first profile: `SMARTCHARGE_BENCH_SPEED` sets it (720 is `make demo`).
"""

import asyncio
import json
import os
import statistics
from dataclasses import dataclass

from rich.console import Console

from app.demo.run import run_demo
from app.demo.scenario import DemoConfig
from simulator import Fleet, FleetSummary, Location

KINDS = tuple(Location(k) for k in os.environ.get("SMARTCHARGE_BENCH_KINDS", "workplace,home").split(","))
SEEDS = tuple(int(s) for s in os.environ.get("SMARTCHARGE_BENCH_SEEDS", "1,2,3").split(","))
SPEED = float(os.environ.get("SMARTCHARGE_BENCH_SPEED", "720"))


@dataclass(frozen=True)
class Day:
    kind: str
    seed: int
    visits: int
    delivered_kwh: float
    bound_kwh: float
    online_kwh: float
    violations: int
    short_periods: int
    promises: int
    promises_kept: int
    first_profile_s: float | None
    wall_s: float

    @property
    def of_bound(self) -> float:
        return self.delivered_kwh / self.bound_kwh if self.bound_kwh else 1.0

    @property
    def online_of_bound(self) -> float:
        return self.online_kwh / self.bound_kwh if self.bound_kwh else 1.0


async def one_day(kind: Location, seed: int) -> Day:
    async def quietly(fleet: Fleet) -> FleetSummary:
        return await fleet.run()

    report = await run_demo(
        DemoConfig(seed=seed, location=kind, speed=SPEED), Console(quiet=True), run_fleet=quietly
    )
    outcome = report.outcome
    assert outcome is not None
    return Day(
        kind=kind.value,
        seed=seed,
        visits=len(report.summary.sessions),
        delivered_kwh=outcome.delivered_kwh,
        bound_kwh=outcome.bound_kwh,
        online_kwh=outcome.online_kwh,
        violations=len(report.violations),
        short_periods=outcome.short_periods,
        promises=outcome.promises,
        promises_kept=outcome.promises_kept,
        first_profile_s=outcome.first_profile_median_s,
        wall_s=report.wall_s,
    )


def main() -> None:
    print(f"simulated days, 20 charge points × 2, clock ×{SPEED:g}; bound = hindsight LP, online = EDF rule")
    print(
        f"{'site':>10} {'seed':>4} {'visits':>6} {'bound kWh':>9} {'service':>8} {'online':>7} "
        f"{'vs online':>9} {'viol.':>5} {'<6 A':>5} {'promises':>9} {'1st prof s':>10} {'wall s':>6}"
    )
    days = []
    for kind in KINDS:
        for seed in SEEDS:
            day = asyncio.run(one_day(kind, seed))
            days.append(day)
            first = f"{day.first_profile_s:.0f}" if day.first_profile_s is not None else "-"
            print(
                f"{day.kind:>10} {day.seed:>4} {day.visits:>6} {day.bound_kwh:>9.0f} {day.of_bound:>8.1%} "
                f"{day.online_of_bound:>7.1%} {day.delivered_kwh / day.online_kwh:>9.3f} {day.violations:>5} "
                f"{day.short_periods:>5} {day.promises_kept:>4}/{day.promises:<4} {first:>10} "
                f"{day.wall_s:>6.0f}",
                flush=True,
            )
    print(
        f"mean: service {statistics.mean(d.of_bound for d in days):.1%} of the bound, online rule "
        f"{statistics.mean(d.online_of_bound for d in days):.1%}; worst service / online "
        f"{min(d.delivered_kwh / d.online_kwh for d in days):.3f}"
    )
    print(json.dumps({"outcome": [d.__dict__ | {"of_bound": d.of_bound} for d in days]}))


if __name__ == "__main__":
    main()
