"""Repositories of smart charging: sites, groups, forecasts, overrides, session demand, schedules."""

from typing import Protocol


class SiteRepository(Protocol):
    pass


class GroupRepository(Protocol):
    pass


class ForecastRepository(Protocol):
    pass


class OverrideRepository(Protocol):
    pass


class DemandRepository(Protocol):
    pass


class ScheduleRepository(Protocol):
    """Schedule revisions and their entries as read back; profile dispatches."""
