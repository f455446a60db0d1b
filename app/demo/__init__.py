"""`smartcharge demo`: the service and a simulated fleet through an accelerated day, then what happened."""

from app.demo.report import DemoReport, IntervalLoad, print_report
from app.demo.run import run_demo
from app.demo.scenario import INTERVAL, DemoConfig, create_site, driver_app, forecast_intervals, tolerance_kw

__all__ = [
    "INTERVAL",
    "DemoConfig",
    "DemoReport",
    "IntervalLoad",
    "create_site",
    "driver_app",
    "forecast_intervals",
    "print_report",
    "run_demo",
    "tolerance_kw",
]
