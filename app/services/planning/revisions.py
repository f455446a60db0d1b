"""A solved plan as a stored schedule revision: why it was made, the site-level series, one entry per
transaction."""

from datetime import datetime

import optimizer
from app.domain.persistence import UnitOfWork
from app.domain.planning import ScheduleEntry, ScheduleRevision
from app.services.planning.problem import Plan

__all__ = ["revision_of", "store_revision"]


def revision_of(
    plan: Plan, result: optimizer.ScheduleResult, trigger: str, created_at: datetime
) -> tuple[ScheduleRevision, list[ScheduleEntry]]:
    """The revision and its entries (their `revision_id` is set when stored)."""
    problem = plan.problem
    planned = [0.0] * problem.n_intervals
    for schedule in result.schedules.values():
        planned = [a + b for a, b in zip(planned, schedule.power_kw, strict=True)]
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
        messages=[*plan.notes, *result.messages],
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


async def store_revision(
    uow: UnitOfWork, plan: Plan, result: optimizer.ScheduleResult, trigger: str, *, created_at: datetime
) -> int:
    """Store a plan (the revision is never seen without its entries); `created_at` is the service clock's
    time of planning (it may run accelerated). Returns the revision's id."""
    revision, entries = revision_of(plan, result, trigger, created_at)
    return await uow.plans.add_revision(revision, entries)
