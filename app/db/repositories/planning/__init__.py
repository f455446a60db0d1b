"""Repositories of smart charging."""

from app.db.repositories.planning.demand import SqlDemandRepository
from app.db.repositories.planning.forecasts import SqlForecastRepository
from app.db.repositories.planning.overrides import SqlOverrideRepository
from app.db.repositories.planning.schedules import SqlScheduleRepository
from app.db.repositories.planning.sites import SqlGroupRepository, SqlSiteRepository

__all__ = [
    "SqlDemandRepository",
    "SqlForecastRepository",
    "SqlGroupRepository",
    "SqlOverrideRepository",
    "SqlScheduleRepository",
    "SqlSiteRepository",
]
