"""The demo's picture: site power against the forecast and the plan, and each EV visit as a bar from
arrival to departure, coloured by the share of its requested energy it got."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from matplotlib import colormaps
from matplotlib.colors import Normalize
from matplotlib.figure import Figure

from app.demo.report import DemoReport

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
INTERVAL = timedelta(minutes=15)


def day_number(moment: datetime) -> float:
    """matplotlib's date axis unit: days since 1970-01-01 UTC."""
    return (moment - EPOCH) / timedelta(days=1)


def draw(report: DemoReport) -> Figure:
    figure = Figure(figsize=(12, 8), layout="constrained")
    power, visits = figure.subplots(2, 1, sharex=True, height_ratios=[1, 1.4])
    loads = [*report.warmup, *report.loads]
    x = np.array([day_number(i.start) for i in loads])
    power.fill_between(
        x, [i.limit_kw for i in loads], step="post", color="grey", alpha=0.25, label="forecast"
    )
    planned = [np.nan if i.planned_kw is None else i.planned_kw for i in loads]
    power.step(x, planned, where="post", label="planned")
    power.step(x, [i.drawn_kw for i in loads], where="post", label="drawn (15-min mean)")
    power.axvline(day_number(report.day_start), color="black", linewidth=0.8, linestyle=":")
    power.set_ylabel("site power, kW")
    power.legend(loc="upper left", fontsize="small")
    sessions = sorted(report.summary.sessions, key=lambda s: (s.arrival, s.charge_point_id))
    shares = [s.delivered_kwh / s.requested_kwh if s.requested_kwh else 1.0 for s in sessions]
    colours = colormaps["RdYlGn"](Normalize(0, 1)(shares))
    visits.barh(
        np.arange(len(sessions)),
        [(s.departure - s.arrival) / timedelta(days=1) for s in sessions],
        left=[day_number(s.arrival) for s in sessions],
        color=colours,
        height=0.8,
    )
    visits.set_ylabel("EV visits, by arrival")
    visits.set_yticks([])
    mappable = visits.scatter([], [], c=[], cmap="RdYlGn", vmin=0, vmax=1)
    figure.colorbar(mappable, ax=visits, label="share of requested energy delivered", shrink=0.8)
    visits.xaxis_date(tz="UTC")
    visits.set_xlim(day_number(loads[0].start if loads else report.day_start), day_number(report.day_end))
    delivered, requested = report.summary.delivered_kwh, report.summary.requested_kwh
    figure.suptitle(
        f"smartcharge demo, {report.day_start:%Y-%m-%d %H:%M} – {report.day_end:%Y-%m-%d %H:%M} UTC, "
        f"seed {report.config.seed}: {len(sessions)} visits, {delivered:.0f} of {requested:.0f} kWh"
    )
    visits.tick_params(axis="x", labelrotation=30)
    return figure


def save(report: DemoReport, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    draw(report).savefig(path, dpi=90)
    return path
