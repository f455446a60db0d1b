"""A solved plan as a stored schedule revision: why it was made, the site-level series, one entry per
transaction."""

from datetime import datetime, timedelta

import optimizer
from app.domain.persistence import UnitOfWork
from app.domain.planning import ScheduleEntry, ScheduleRevision
from app.services.planning.problem import Plan

__all__ = ["promises_short", "revision_of", "store_revision"]

PROMISE_TOLERANCE_KWH = 0.05


def revision_of(
    plan: Plan,
    result: optimizer.ScheduleResult,
    trigger: str,
    created_at: datetime,
    planned_by: str | None = None,
) -> tuple[ScheduleRevision, list[ScheduleEntry]]:
    """The revision and its entries (their `revision_id` is set when stored)."""
    problem = plan.problem
    # the site's planned load: summed per interval in the schedules' order, one pass over the columns
    powers = [schedule.power_kw for schedule in result.schedules.values()]
    planned = [sum(column, 0.0) for column in zip(*powers, strict=True)] or [0.0] * problem.n_intervals
    revision = ScheduleRevision(
        site_id=plan.site_id,
        created_at=created_at,
        trigger=trigger[:200],
        status=result.status.value,
        strategy=result.strategy,
        solve_seconds=result.solve_seconds,
        start=problem.start,
        interval_minutes=problem.interval_min,
        n_intervals=problem.n_intervals,
        capacity_kw=list(problem.capacity_kw),
        planned_kw=planned,
        binding=list(result.explanation.binding),
        shadow_price=list(result.explanation.shadow_price),
        relaxations=[
            {"session": r.session, "kind": r.kind, "intervals": list(r.intervals), "reason": r.reason}
            for r in result.relaxations
        ],
        messages=[*plan.notes, *result.messages, *promises_short(plan, result)],
        planned_by=planned_by,
    )
    entries = [
        ScheduleEntry(
            revision_id=0,
            transaction_id=ps.transaction_id,
            charge_point_id=ps.charge_point_id,
            connector_id=ps.connector_id,
            power_kw=list(result.schedules[key].power_kw),
            max_kw=ps.max_kw,
            energy_kwh=ps.energy_kwh,
            delivered_kwh=result.schedules[key].delivered_kwh,
            unmet_kwh=result.schedules[key].unmet_kwh,
            departure=ps.departure,
            demand_source=ps.demand_source,
            assumption=ps.assumption,
        )
        for key, ps in plan.sessions.items()
    ]
    return revision, entries


def promises_short(plan: Plan, result: optimizer.ScheduleResult) -> list[str]:
    """One line per promise (energy and departure stated) the plan does not keep: by how much, and why."""
    problem = plan.problem
    step = timedelta(minutes=problem.interval_min)
    horizon_end = problem.start + problem.n_intervals * step
    lines = []
    for key, ps in plan.sessions.items():
        if ps.promised_kwh is None or ps.departure >= horizon_end:  # beyond the plan: not judged yet
            continue
        schedule = result.schedules[key]
        short_kwh = ps.promised_kwh - schedule.delivered_kwh
        if short_kwh <= PROMISE_TOLERANCE_KWH:
            continue
        reach_kwh = ps.max_kw * max(0.0, (ps.departure - problem.start).total_seconds() / 3600)
        if reach_kwh < ps.promised_kwh - PROMISE_TOLERANCE_KWH:
            why = f"its maximum, {ps.max_kw:.1f} kW until its departure, delivers {reach_kwh:.1f} kWh"
        else:
            held = sorted(
                {
                    name
                    for t, name in enumerate(result.explanation.binding)
                    if name not in ("none", "sessions")
                    and problem.start + (t + 1) * step <= ps.departure
                    and schedule.power_kw[t] < ps.max_kw - 1e-6
                }
            )
            why = f"the capacity of {', '.join(held)}" if held else "the other promises and the minimum rates"
        lines.append(
            f"promise short: transaction {ps.transaction_id} gets {schedule.delivered_kwh:.1f} of "
            f"{ps.promised_kwh:.1f} kWh by {ps.departure:%Y-%m-%d %H:%M} UTC ({why})"
        )
    return lines


async def store_revision(
    uow: UnitOfWork,
    plan: Plan,
    result: optimizer.ScheduleResult,
    trigger: str,
    *,
    created_at: datetime,
    planned_by: str | None = None,
) -> int:
    """Store a plan (the revision is never seen without its entries); `created_at` is the service clock's
    time of planning (it may run accelerated), `planned_by` the scheduler process of a scale-out layout.
    Returns the revision's id."""
    revision, entries = revision_of(plan, result, trigger, created_at, planned_by)
    return await uow.plans.add_revision(revision, entries)
