"""Use cases of smart charging: sites and groups, forecasts, overrides, demand, planning, the scheduler."""

from optimizer import compress_periods

__all__ = ["compress_periods"]
