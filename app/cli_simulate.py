"""`smartcharge simulate`: a fleet of simulated charge points, or one scripted session on a registered one."""

import asyncio
import logging
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from simulator.clock import Clock


def simulate(
    url: str = typer.Option(
        "ws://127.0.0.1:9000/ocpp", help="OCPP endpoint; the charge point id is appended"
    ),
    charge_points: int = typer.Option(10, "--charge-points", "-n", min=1, help="number of charge points"),
    site: str = typer.Option("demo", help="site name: charge points are SITE-CP001…, id tags SITE-TAG001…"),
    speed: float | None = typer.Option(
        None, help="simulated seconds per real second (default SMARTCHARGE_CLOCK_SPEED, else 1)"
    ),
    duration_hours: float = typer.Option(24.0, "--duration-hours", help="simulated hours to run"),
    seed: int = typer.Option(0, help="seed of the session sampler: same seed, same sessions"),
    password: str | None = typer.Option(None, help="HTTP Basic password of every charge point (profile 1)"),
    location: str = typer.Option(
        "public", help="kind of site, as ElaadNL describes: public, workplace, home"
    ),
    connectors: int = typer.Option(2, min=1, max=2, help="connectors per charge point"),
    sessions_per_day: float | None = typer.Option(
        None,
        "--sessions-per-day",
        min=0.0,
        help="EV visits per connector per day (public 3, workplace 1.5, home 1.2)",
    ),
    start: str | None = typer.Option(
        None, help="simulated start, ISO 8601 (default SMARTCHARGE_CLOCK_START, else now)"
    ),
    summary_json: Path | None = typer.Option(
        None, "--summary-json", help="also write the summary as JSON here"
    ),
    ignore_limits: list[str] = typer.Option(
        [], "--ignore-limits", help="a charge point (e.g. demo-CP003) that accepts profiles but ignores them"
    ),
    ids: list[str] = typer.Option(
        [], "--id", help="play this registered charge point id (repeatable), instead of SITE-CP001…"
    ),
    tags: list[str] = typer.Option(
        [], "--tag", help="an id tag the EVs' drivers use (repeatable), instead of SITE-TAG001…"
    ),
    session: str | None = typer.Option(
        None,
        "--session",
        metavar="ID_TAG",
        help="play one scripted session on the --id charge point with this id tag (plug in, authorise, "
        "charge, stop), print what happened and exit",
    ),
    minutes: float = typer.Option(5.0, min=0.01, help="--session: simulated minutes the EV stays plugged in"),
    kwh: float = typer.Option(20.0, min=0.01, help="--session: energy the EV wants (kWh)"),
    connector: int = typer.Option(1, min=1, max=2, help="--session: the connector the EV plugs into"),
) -> None:
    """Run a fleet of simulated OCPP 1.6J charge points with EVs from real session statistics, or (with
    --id and --session) one charge point through one scripted charging session.

    Exit status 1 when no charge point could connect (the reason is printed: HTTP status and what to do),
    or when the scripted session got no transaction."""
    import json
    import os

    from rich.console import Console
    from rich.logging import RichHandler

    from app.domain.clock import SPEED_ENV, START_ENV, clock_from_env
    from simulator import (
        Fleet,
        FleetConfig,
        Location,
        parse_instant,
        refusal_lines,
        run_with_display,
        sessions_table,
        summary_table,
    )

    if location not in {loc.value for loc in Location}:
        raise typer.BadParameter(f"{location!r}: choose public, workplace or home", param_hint="--location")
    environ = dict(os.environ)
    if speed is not None:
        environ[SPEED_ENV] = str(speed)
    if start is not None:
        try:
            parse_instant(start)
        except ValueError as exc:
            raise typer.BadParameter(f"{start!r} is not an ISO 8601 instant", param_hint="--start") from exc
        environ[START_ENV] = start
    if session is not None:
        _simulate_session(
            url, ids, session, password, connectors, minutes, kwh, connector, clock_from_env(environ)
        )
        return
    try:
        config = FleetConfig(
            url=url,
            site=site,
            charge_points=charge_points,
            connectors=connectors,
            location=Location(location),
            duration_h=duration_hours,
            seed=seed,
            password=password,
            sessions_per_day=sessions_per_day,
            ignore_limits=tuple(ignore_limits),
            ids=tuple(ids),
            tags=tuple(tags),
        )
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--id / --ignore-limits") from exc
    console = Console()
    logging.basicConfig(level=logging.WARNING, handlers=[RichHandler(console=console)])
    logging.getLogger("ocpp").setLevel(logging.CRITICAL)  # CALLERRORs and timeouts are counted in the summary
    fleet = Fleet(config, clock_from_env(environ))
    console.print(
        f"{config.charge_points} charge points × {connectors} connectors at {url}: "
        f"{fleet.planned_sessions} EV visits planned, speed ×{fleet.clock.speed:g}"
    )
    summary = asyncio.run(run_with_display(fleet, console, give_up_when_refused=True))
    console.print(sessions_table(summary))
    console.print(summary_table(summary))
    for line in refusal_lines(summary):
        console.print(line, markup=False, highlight=False)
    if summary_json is not None:
        summary_json.write_text(json.dumps(summary.to_dict(), indent=2))
    if summary.connects == 0:
        console.print("no charge point connected", style="bold red")
        raise typer.Exit(1)


def _simulate_session(
    url: str,
    ids: list[str],
    id_tag: str,
    password: str | None,
    connectors: int,
    minutes: float,
    kwh: float,
    connector: int,
    clock: "Clock",
) -> None:
    """`simulate --session`: one scripted session, its story on stdout; exit 1 without a transaction."""
    from simulator import ScriptedSession, run_session, session_lines

    if len(ids) != 1:
        raise typer.BadParameter("give the charge point to play: exactly one --id", param_hint="--session")
    try:
        script = ScriptedSession(
            url, ids[0], id_tag, minutes, kwh, connector, connectors=connectors, password=password
        )
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--connector") from exc
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("ocpp").setLevel(logging.CRITICAL)
    typer.echo(
        f"playing {script.charge_point_id}: tag {id_tag}, {minutes:g} simulated min at ×{clock.speed:g}, "
        f"the EV wants {kwh:g} kWh"
    )
    report = asyncio.run(run_session(script, clock))
    for line in session_lines(report):
        typer.echo(line)
    if not report.ok:
        raise typer.Exit(1)
