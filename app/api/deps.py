"""Dependencies declared once: the database session, the caller, role checks."""

from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel.ext.asyncio.session import AsyncSession

from app.api.errors import Problem
from app.db.engine import Database
from app.domain.clock import SystemClock
from app.domain.enums import Role
from app.domain.ports import ChargePointCommands, Clock
from app.services.apikeys import Principal, authenticate

CHALLENGE = {"WWW-Authenticate": "Bearer"}
bearer = HTTPBearer(auto_error=False, description="API key: `Authorization: Bearer <key>`")


def get_database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


async def get_session(database: Annotated[Database, Depends(get_database)]) -> AsyncIterator[AsyncSession]:
    async with database.session() as session:
        yield session


def get_clock(request: Request) -> Clock:
    """The service's clock (a scaled one in accelerated simulations), else real UTC time."""
    clock: Clock | None = getattr(request.app.state, "clock", None)
    return clock or SystemClock()


def get_commands(request: Request) -> ChargePointCommands:
    commands: ChargePointCommands = request.app.state.gateway.commands
    return commands


async def get_principal(
    database: Annotated[Database, Depends(get_database)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Problem(401, "an API key is required: Authorization: Bearer <key>", headers=CHALLENGE)
    async with database.session() as session:
        principal = await authenticate(session, credentials.credentials)
    if principal is None:
        raise Problem(401, "unknown or revoked API key", headers=CHALLENGE)
    return principal


DatabaseDep = Annotated[Database, Depends(get_database)]
# scope="function": the unit of work commits before the response is sent, so a client that reads
# right after a write sees it.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
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
