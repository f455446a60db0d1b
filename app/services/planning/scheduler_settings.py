"""What a scheduler is tuned by (`Scheduler`); the service fills it from `Settings`."""

from dataclasses import dataclass, field

from app.services.planning.compliance import OverDrawRule
from app.services.planning.learning import LearningRule

__all__ = ["SchedulerSettings"]


@dataclass(frozen=True)
class SchedulerSettings:
    horizon_intervals: int = 96
    debounce_s: float = 0.05
    solve_time_limit_s: float = 10.0
    solve_processes: int = 0  # solves in a pool of this many processes (0: a worker thread)
    # sites loaded, solved and stored at once (at least the pool's size + 2): at an interval boundary every
    # site asks at once, and 500 snapshots under way would hold every database connection
    plan_concurrency: int = 4
    dispatch_concurrency: int = 200
    retry_attempts: int = 3
    retry_backoff_s: float = 2.0
    readback_wait_max_s: float = 2.0  # read-backs wait for the plan's other sends, at most this long
    learning: LearningRule = field(default_factory=LearningRule)
    default_profile_share: float = 1.0  # share of the site's fallback capacity the default profiles add up to
    reserve_draw: bool = False  # plan an EV drawing under its minimum at its draw (`problem.build_plan`)
    reading_delay_s: float = 30.0  # after new limits, a meter reading this much later (service clock)
    over_draw: OverDrawRule = field(default_factory=OverDrawRule)  # when a transaction is non-compliant
