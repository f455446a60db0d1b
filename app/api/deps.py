"""Dependencies declared once: the store and the request's unit of work, the caller, role and site checks."""

from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.api.errors import Problem
from app.domain.access import Principal
from app.domain.clock import SystemClock
from app.domain.enums import Role
from app.domain.persistence import Store, UnitOfWork
from app.domain.ports import ChargePointCommands, Clock
from app.services.access import authenticate

CHALLENGE = {"WWW-Authenticate": "Bearer"}
bearer = HTTPBearer(auto_error=False, description="API key: `Authorization: Bearer <key>`")


def get_store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


async def get_uow(store: Annotated[Store, Depends(get_store)]) -> AsyncIterator[UnitOfWork]:
    async with store.unit_of_work() as uow:
        yield uow


def get_clock(request: Request) -> Clock:
    """The service's clock (a scaled one in accelerated simulations), else real UTC time."""
    clock: Clock | None = getattr(request.app.state, "clock", None)
    return clock or SystemClock()


def get_commands(request: Request) -> ChargePointCommands:
    commands: ChargePointCommands = request.app.state.commands
    return commands


async def get_principal(
    store: Annotated[Store, Depends(get_store)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Problem(401, "an API key is required: Authorization: Bearer <key>", headers=CHALLENGE)
    async with store.reading() as uow:
        principal = await authenticate(uow, credentials.credentials)
    if principal is None:
        raise Problem(401, "unknown or revoked API key", headers=CHALLENGE)
    return principal


async def get_reading(store: Annotated[Store, Depends(get_store)]) -> AsyncIterator[UnitOfWork]:
    async with store.reading() as uow:
        yield uow


StoreDep = Annotated[Store, Depends(get_store)]
# scope="function": the unit of work commits before the response is sent, so a client that reads
# right after a write sees it.
UowDep = Annotated[UnitOfWork, Depends(get_uow, scope="function")]
# For handlers that only read: no transaction around their reads (`Store.reading`).
ReadingDep = Annotated[UnitOfWork, Depends(get_reading, scope="function")]
CommandsDep = Annotated[ChargePointCommands, Depends(get_commands)]
ClockDep = Annotated[Clock, Depends(get_clock)]
CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


def require(*roles: Role) -> Callable[..., Coroutine[Any, Any, Principal]]:
    """A dependency that admits the given roles (admin always)."""
    allowed = {Role.admin, *roles}

    async def check(principal: CurrentPrincipal) -> Principal:
        if principal.role not in allowed:
            raise Problem(403, f"role {principal.role.value!r} may not do this")
        return principal

    return check


AdminDep = Annotated[Principal, Depends(require())]
OperatorDep = Annotated[Principal, Depends(require(Role.operator))]
ReaderDep = Annotated[Principal, Depends(require(Role.operator, Role.analyst, Role.grid_operator))]
# Drivers' id tags, and what carries them (reservations, the commands sent), are not grid-operator data.
DriverDataReaderDep = Annotated[Principal, Depends(require(Role.operator, Role.analyst))]


def sees_driver_data(principal: Principal) -> bool:
    return principal.role is not Role.grid_operator


def check_site_access(principal: Principal, site_id: int) -> None:
    """A grid operator's key with `site_ids` reaches those sites only; others are "not found" to it."""
    if not principal.may_reach(site_id):
        raise Problem(404, f"site {site_id} not found")
