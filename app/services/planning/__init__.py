"""Use cases of smart charging: sites and groups, forecasts, overrides, demand, planning, the scheduler."""
