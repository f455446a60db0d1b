"""Tables of the smart-charging loop (sites, groups, forecasts, overrides, schedules)."""
