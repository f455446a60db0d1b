"""The persistence port over SQLAlchemy: `SqlStore` opens `SqlUnitOfWork`s on the `Database`'s sessions.

Events a unit of work records are published on the bus after its transaction commits (after the group
commit's batch, for `run`), and dropped when it rolls back.
"""

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TypeVar

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.batched import SqlBatchedWrites
from app.db.engine import Database
from app.db.repositories.access import (
    SqlApiKeyRepository,
    SqlConsoleSessionRepository,
    SqlConsoleUserRepository,
)
from app.db.repositories.ocpp import (
    SqlChargePointRepository,
    SqlCommandRepository,
    SqlDataTransferRepository,
    SqlDriverRepository,
    SqlIdTagRepository,
    SqlMeterValueRepository,
    SqlReservationRepository,
    SqlSecurityRepository,
    SqlStatusRepository,
    SqlTransactionRepository,
)
from app.db.repositories.planning import (
    SqlDemandRepository,
    SqlForecastRepository,
    SqlGroupRepository,
    SqlOverrideRepository,
    SqlScheduleRepository,
    SqlSiteRepository,
)
from app.db.repositories.plans import SqlPlanRepository
from app.domain.bus import EventBus
from app.domain.events import Event
from app.domain.persistence import UnitOfWork
from app.domain.repositories.access import (
    ApiKeyRepository,
    ConsoleSessionRepository,
    ConsoleUserRepository,
)
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


class SqlUnitOfWork:
    """The repositories of one transaction (one `AsyncSession`), and the events it will publish."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.events: list[Event] = []
        self.api_keys: ApiKeyRepository = SqlApiKeyRepository(session)
        self.console_users: ConsoleUserRepository = SqlConsoleUserRepository(session)
        self.console_sessions: ConsoleSessionRepository = SqlConsoleSessionRepository(session)
        self.charge_points: ChargePointRepository = SqlChargePointRepository(session)
        self.id_tags: IdTagRepository = SqlIdTagRepository(session)
        self.drivers: DriverRepository = SqlDriverRepository(session)
        self.transactions: TransactionRepository = SqlTransactionRepository(session)
        self.meter_values: MeterValueRepository = SqlMeterValueRepository(session)
        self.commands: CommandRepository = SqlCommandRepository(session)
        self.reservations: ReservationRepository = SqlReservationRepository(session)
        self.data_transfers: DataTransferRepository = SqlDataTransferRepository(session)
        self.security: SecurityRepository = SqlSecurityRepository(session)
        self.status: StatusRepository = SqlStatusRepository(session)
        self.sites: SiteRepository = SqlSiteRepository(session)
        self.groups: GroupRepository = SqlGroupRepository(session)
        self.forecasts: ForecastRepository = SqlForecastRepository(session)
        self.overrides: OverrideRepository = SqlOverrideRepository(session)
        self.demands: DemandRepository = SqlDemandRepository(session)
        self.schedules: ScheduleRepository = SqlScheduleRepository(session)
        self.plans: PlanRepository = SqlPlanRepository(session)

    def record(self, event: Event) -> None:
        self.events.append(event)

    async def flush(self) -> None:
        await self.session.flush()


class SqlStore:
    """`Store` on a `Database`: units of work, the group commit, and the batched hot-path writes."""

    def __init__(self, database: Database, bus: EventBus) -> None:
        self.database = database
        self.bus = bus
        self._batched = SqlBatchedWrites(database)

    @property
    def batched(self) -> SqlBatchedWrites:
        return self._batched

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[UnitOfWork]:
        async with self.database.session() as session:
            uow = SqlUnitOfWork(session)
            yield uow
        self.bus.publish_all(uow.events)

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[UnitOfWork]:
        async with self.database.reading() as session:
            yield SqlUnitOfWork(session)

    async def run(self, work: Callable[[UnitOfWork], Awaitable[T]]) -> T:
        async def unit(session: AsyncSession) -> tuple[T, list[Event]]:
            uow = SqlUnitOfWork(session)  # a unit run again alone (its batch failed) records afresh
            return await work(uow), uow.events

        result, events = await self.database.run(unit)
        self.bus.publish_all(events)
        return result

    async def ping(self) -> None:
        async with self.database.session() as session:
            await (await session.connection()).execute(text("SELECT 1"))
