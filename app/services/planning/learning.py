"""What an EV has shown it can draw, learnt per transaction from its meter values (pure).

A charge point's nameplate is not what its EV takes: an on-board charger caps the power, many EVs use one
phase of three, a battery near full tapers, and an EV that is done (or asleep) draws nothing. Planning on
the nameplate reserves capacity nobody uses. So, per transaction:

- **phases in use**: the phases that carry current while it charges (when the charge point reports the
  current per phase); limits are then computed for those phases;
- **its ceiling**: drawing well below its allocation (under `below` of it), the EV limits itself; its
  ceiling becomes what it draws, plus a `margin`. It follows taper down the same way;
- **a probe upward**: drawing all of an allocation that is its ceiling (`following`), for `probe_samples`
  samples in a row, it may take more: the ceiling is dropped and it is offered its connector again;
- **idle**: drawing nothing for `idle_samples` samples though offered at least its minimum, it is not
  charging: it is planned at 0 for `retry_idle`, then offered its minimum again (some EVs only resume when
  a limit comes back). Idle again after that, it rests twice as long each time, up to `retry_idle_max`: a
  full battery plugged in all afternoon should not hold a minimum's worth of capacity every hour.
- **state of charge and battery**: where the charge point reports SoC, the latest one, and the battery's
  usable capacity once the SoC has risen by `soc_span`: energy delivered over that rise (for `taper`).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from app.domain.events import MeterSample

__all__ = ["DRAWING_KW", "EvTrace", "LearningRule", "learn"]

DRAWING_KW = 0.1  # below this an EV draws nothing


@dataclass(frozen=True)
class LearningRule:
    below: float = 0.8
    margin: float = 1.05
    following: float = 0.97
    probe_samples: int = 2
    idle_samples: int = 2
    retry_idle: timedelta = timedelta(hours=1)
    retry_idle_max: timedelta = timedelta(hours=4)
    settle: float = 0.1  # a new ceiling within this share of the last is no news (no replan for it)
    soc_span: float = 0.05  # the rise in state of charge a battery's capacity is worked out over


@dataclass
class EvTrace:
    """What one transaction's EV has shown."""

    phases: int | None = None
    ceiling_kw: float | None = None
    idle_until: datetime | None = None
    following: int = 0
    idle: int = 0
    rests: int = 0  # times it was found idle since it last drew
    soc_first: tuple[float, float] | None = None  # (SoC as a fraction, meter register Wh) first reported
    soc_last: tuple[float, float] | None = None  # the latest
    battery_kwh: float | None = None  # usable capacity, once the SoC has risen enough to say

    def ceiling_at(self, now: datetime) -> float | None:
        """The EV's ceiling now: 0 while it rests, what it has shown (nothing, so it is offered its minimum)
        after a rest until it draws again, None when unknown (its connector's maximum)."""
        if self.idle_until is not None and now < self.idle_until:
            return 0.0
        if self.rests:
            return DRAWING_KW
        return self.ceiling_kw


def _charge(trace: EvTrace, rule: LearningRule, sample: MeterSample) -> bool:
    """Note the state of charge a sample reports; True when the battery's capacity is first worked out."""
    if sample.soc_percent is None or sample.energy_wh is None or not 0 <= sample.soc_percent <= 100:
        return False
    trace.soc_last = (sample.soc_percent / 100, sample.energy_wh)
    if trace.soc_first is None:
        trace.soc_first = trace.soc_last
        return False
    (soc_0, wh_0), (soc_1, wh_1) = trace.soc_first, trace.soc_last
    if trace.battery_kwh is not None or soc_1 - soc_0 < rule.soc_span or wh_1 <= wh_0:
        return False
    trace.battery_kwh = (wh_1 - wh_0) / 1000 / (soc_1 - soc_0)
    return True


def learn(trace: EvTrace, rule: LearningRule, allocated_kw: float, sample: MeterSample) -> bool:
    """Learn from one sample taken while the EV was allocated `allocated_kw`; True when what planning should
    assume of the EV has changed."""
    if _charge(trace, rule, sample):
        return True
    if sample.power_w is None or allocated_kw <= 0:
        return False  # paused by us: nothing to learn
    drawn_kw = sample.power_w / 1000
    changed = False
    if sample.phases is not None and drawn_kw >= DRAWING_KW and sample.phases != trace.phases:
        trace.phases, changed = sample.phases, True
    if drawn_kw < DRAWING_KW:
        if trace.idle_until is not None and sample.timestamp >= trace.idle_until:  # offered again: afresh
            trace.idle_until, trace.idle = None, 0
        trace.idle += 1
        if trace.idle >= rule.idle_samples and trace.idle_until is None:
            rest = min(rule.retry_idle * 2**trace.rests, rule.retry_idle_max)
            trace.idle_until, trace.rests = sample.timestamp + rest, trace.rests + 1
            return True
        return changed
    trace.idle = trace.rests = 0
    if trace.idle_until is not None:  # it draws again
        trace.idle_until = None
        changed = True
    if drawn_kw < allocated_kw * rule.below:  # it limits itself
        trace.following = 0
        ceiling = drawn_kw * rule.margin
        news = trace.ceiling_kw is None or abs(ceiling - trace.ceiling_kw) > rule.settle * trace.ceiling_kw
        if news:
            trace.ceiling_kw = ceiling
        return changed or news
    at_ceiling = trace.ceiling_kw is not None and allocated_kw >= trace.ceiling_kw * rule.following
    if at_ceiling and drawn_kw >= allocated_kw * rule.following:  # our limit binds it: it may take more
        trace.following += 1
        if trace.following >= rule.probe_samples:
            trace.ceiling_kw, trace.following = None, 0
            return True
    else:
        trace.following = 0
    return changed
