"""Session demand: departure and energy of a transaction, set by a driver app or an operator, and the
effective demand with its source (set → site defaults → the tag's past sessions → unknown)."""

from typing import Annotated

from fastapi import APIRouter, Depends, status

from app.api.deps import ClockDep, OperatorDep, UowDep, require
from app.api.schemas import DemandOut, DemandSet, RowId, problems
from app.api.support import service_problems
from app.domain.access import Principal
from app.domain.enums import Role
from app.services.planning import demand

router = APIRouter(
    prefix="/transactions/{transaction_id}/demand", tags=["demand"], responses=problems(401, 403)
)

DemandReaderDep = Annotated[Principal, Depends(require(Role.operator, Role.analyst))]


@router.get("", summary="The effective demand and where each part came from", responses=problems(404))
async def get_demand(transaction_id: RowId, uow: UowDep, _: DemandReaderDep) -> DemandOut:
    with service_problems():
        return DemandOut.model_validate(await demand.effective_demand(uow, transaction_id))


@router.put(
    "",
    summary="Set departure and/or energy for a running transaction (replaces what was set)",
    responses=problems(404, 409, 422),
)
async def set_demand(
    transaction_id: RowId, body: DemandSet, uow: UowDep, principal: OperatorDep, clock: ClockDep
) -> DemandOut:
    with service_problems():
        await demand.set_demand(
            uow,
            transaction_id,
            departure=body.departure,
            energy_kwh=body.energy_kwh,
            min_current_a=body.min_current_a,
            now=clock.now(),
            author=principal.name,
            author_key_id=principal.key_id,
        )
    with service_problems():
        return DemandOut.model_validate(await demand.effective_demand(uow, transaction_id))


@router.delete(
    "",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Forget what was set: back to the site defaults or the estimate",
    responses=problems(404),
)
async def clear_demand(transaction_id: RowId, uow: UowDep, _: OperatorDep) -> None:
    with service_problems():
        await demand.clear_demand(uow, transaction_id)
