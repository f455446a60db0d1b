"""The status summary (what SteVe's home page counts) and the health check."""

import anyio
from fastapi import APIRouter

from app.api.deps import ClockDep, CommandsDep, ReaderDep, StoreDep, UowDep, sees_driver_data
from app.api.errors import Problem
from app.api.schemas import Health, HeartbeatCounts, StatusSummary, problems
from app.api.support import ScopeDep, operation_id
from app.services.ocpp import reporting

router = APIRouter(tags=["status"], generate_unique_id_function=operation_id)

HEALTH_TIMEOUT_S = 5.0


@router.get(
    "/status", summary="Counts of charge points, tags, transactions, …", responses=problems(401, 403, 422)
)
async def status_summary(
    uow: UowDep, clock: ClockDep, commands: CommandsDep, principal: ReaderDep, scope: ScopeDep
) -> StatusSummary:
    now = clock.now()
    summary = await reporting.status_summary(
        uow, now=now, connected_ids=commands.connected_ids(), scope=scope
    )
    return StatusSummary(
        charge_points=summary.charge_points,
        connected_charge_points=summary.connected_charge_points,
        pending_charge_points=summary.pending_charge_points,
        id_tags=summary.id_tags if sees_driver_data(principal) else None,
        active_transactions=summary.active_transactions,
        active_reservations=summary.active_reservations,
        connectors_by_status=summary.connectors_by_status,
        heartbeats=HeartbeatCounts(**summary.heartbeats),
        generated_at=now,
    )


@router.get("/health", summary="Liveness and database check (no key needed)", responses=problems(503))
async def health(store: StoreDep, commands: CommandsDep) -> Health:
    try:
        with anyio.fail_after(HEALTH_TIMEOUT_S):
            await store.ping()
    except Exception as exc:
        raise Problem(503, f"database unavailable: {type(exc).__name__}") from exc
    return Health(status="ok", database="ok", connected_charge_points=len(commands.connected_ids()))
