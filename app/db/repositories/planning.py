"""Repositories of smart charging."""

from app.db.repositories.base import Repository


class SqlSiteRepository(Repository):
    pass


class SqlGroupRepository(Repository):
    pass


class SqlForecastRepository(Repository):
    pass


class SqlOverrideRepository(Repository):
    pass


class SqlDemandRepository(Repository):
    pass


class SqlScheduleRepository(Repository):
    pass
