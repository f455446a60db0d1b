"""Whether a charge point keeps to the limits it accepted, judged per transaction from meter values (pure).

A charge point may accept a TxProfile and let its EV draw more anyway (a firmware that ignores profiles, a
profile lost without a reboot). Planning that trusts it overloads the site by the difference. So:

- **over-drawing**: a sample measured more than `tolerance` above the limit in force, `samples` samples
  running, marks the transaction non-compliant (reason `over_draw`); it is then planned as a fixed session at
  what it draws (the others make room), and what it draws is followed while it stays over;
- **compliant again**: drawing within the limit (+ tolerance) for `samples` samples running;
- **what counts**: only samples taken once the limits were in force (`DispatchState.in_force` since) and
  `settle` after that: an EV may take a few seconds to ramp down to a lowered limit (IEC 61851-1 allows
  it 5 s), and a sample within `settle` of a step down in the profile is held to the higher limit before it.

The tolerance is the larger of `tolerance_kw` and `tolerance_share` of the limit: meters and EVs are not
exact (a 16 A limit drawn at 16.4 A is not a refusal), and limits are rounded down to 0.1 A when sent.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from app.domain.events import MeterSample

__all__ = ["ComplianceChange", "DrawTrace", "OverDrawRule", "check_draw"]

OVER_DRAW = "over_draw"


@dataclass(frozen=True)
class OverDrawRule:
    tolerance_kw: float = 1.0
    tolerance_share: float = 0.1
    samples: int = 2
    settle: timedelta = timedelta(seconds=10)
    follow: float = 0.1  # while over, a draw that moves by more than this share of the last is news (replan)

    def allowed_kw(self, limit_kw: float) -> float:
        """The most a transaction may draw under `limit_kw` and still be compliant."""
        return limit_kw + max(self.tolerance_kw, limit_kw * self.tolerance_share)


@dataclass(frozen=True)
class ComplianceChange:
    """A transaction found non-compliant, or compliant again, at the sample `at` that settled it."""

    transaction_id: int
    non_compliant: bool
    reason: str
    limit_kw: float  # the limit in force at that sample
    measured_kw: float  # what it drew then
    at: datetime


@dataclass
class DrawTrace:
    """One transaction's draw against its limits: samples running over or within, and since when it is
    non-compliant (None: compliant) at what draw."""

    over: int = 0
    within: int = 0
    since: datetime | None = None
    draw_kw: float = 0.0


def check_draw(
    trace: DrawTrace, rule: OverDrawRule, transaction_id: int, limit_kw: float, sample: MeterSample
) -> tuple[bool, ComplianceChange | None]:
    """Judge one sample measured under `limit_kw` (the highest limit in force within `rule.settle` before
    it). Returns whether what planning assumes of the transaction changed, and the change of its compliance
    (None when it stays as it was)."""
    if sample.power_w is None:
        return False, None
    drawn_kw = sample.power_w / 1000
    if drawn_kw > rule.allowed_kw(limit_kw):
        trace.over, trace.within = trace.over + 1, 0
        if trace.since is not None:  # still over: follow what it draws
            moved = abs(drawn_kw - trace.draw_kw) > rule.follow * max(trace.draw_kw, rule.tolerance_kw)
            if moved:
                trace.draw_kw = drawn_kw
            return moved, None
        if trace.over < rule.samples:
            return False, None
        trace.since, trace.draw_kw = sample.timestamp, drawn_kw
        return True, ComplianceChange(transaction_id, True, OVER_DRAW, limit_kw, drawn_kw, sample.timestamp)
    trace.over, trace.within = 0, trace.within + 1
    if trace.since is None or trace.within < rule.samples:
        return False, None
    trace.since, trace.draw_kw, trace.within = None, 0.0, 0
    return True, ComplianceChange(transaction_id, False, OVER_DRAW, limit_kw, drawn_kw, sample.timestamp)
