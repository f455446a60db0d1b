"""The persistence port: a unit of work with one repository per aggregate, and the store that opens them.

Services take a `UnitOfWork` (one transaction: it commits when the `with` block ends, rolls back on an
error) or the `Store` (to open one, to join the group commit, or for the batched hot-path writes). They
never see a database session or a table. `app.db` implements all of it.
"""

from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Protocol, TypeVar

from app.domain.events import Event
from app.domain.repositories.access import (
    ApiKeyRepository,
    ConsoleSessionRepository,
    ConsoleUserRepository,
)
from app.domain.repositories.batched import BatchedWrites
from app.domain.repositories.ocpp import (
    ChargePointRepository,
    CommandRepository,
    DataTransferRepository,
    DriverRepository,
    IdTagRepository,
    MeterValueRepository,
    ReservationRepository,
    StatusRepository,
    TransactionRepository,
)
from app.domain.repositories.planning import (
    DemandRepository,
    ForecastRepository,
    GroupRepository,
    OverrideRepository,
    ScheduleRepository,
    SiteRepository,
)
from app.domain.repositories.plans import PlanRepository
from app.domain.repositories.security import SecurityRepository

T = TypeVar("T")


class UnitOfWork(Protocol):
    """One transaction. Events recorded here reach the bus after it commits, never after a rollback."""

    api_keys: ApiKeyRepository
    console_users: ConsoleUserRepository
    console_sessions: ConsoleSessionRepository
    charge_points: ChargePointRepository
    id_tags: IdTagRepository
    drivers: DriverRepository
    transactions: TransactionRepository
    meter_values: MeterValueRepository
    commands: CommandRepository
    reservations: ReservationRepository
    data_transfers: DataTransferRepository
    security: SecurityRepository
    status: StatusRepository
    sites: SiteRepository
    groups: GroupRepository
    forecasts: ForecastRepository
    overrides: OverrideRepository
    demands: DemandRepository
    schedules: ScheduleRepository
    plans: PlanRepository

    def record(self, event: Event) -> None:
        """Publish `event` once this unit of work has committed."""
        ...

    async def flush(self) -> None:
        """Write pending changes now (new rows get their ids); still inside the transaction."""
        ...


class Store(Protocol):
    """Opens units of work; the one door to persistence."""

    @property
    def batched(self) -> BatchedWrites:
        """Hot-path writes: each call joins the other callers' in one statement per group commit."""
        ...

    def unit_of_work(self) -> AbstractAsyncContextManager[UnitOfWork]:
        """A unit of work of its own: committed when the block ends."""
        ...

    def reading(self) -> AbstractAsyncContextManager[UnitOfWork]:
        """A unit of work for reads only (lookups on a hot path): each read sees what was committed when it
        ran, and no transaction is held around them (fewer round trips). Writes go in `unit_of_work`."""
        ...

    async def run(self, work: Callable[[UnitOfWork], Awaitable[T]]) -> T:
        """Run `work` in a unit of work group-committed with other callers'; returns after the commit."""
        ...

    async def ping(self) -> None:
        """Raise unless the database answers."""
        ...
