"""The `smartcharge` command line."""

import asyncio
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import typer

from app.cli_simulate import simulate
from app.cli_users import in_unit_of_work as _in_unit_of_work
from app.cli_users import user_cli
from app.domain.access import ApiKey
from app.domain.enums import Role
from app.domain.persistence import UnitOfWork
from app.runtime import tune_garbage_collector
from app.settings import ProcessRole, Settings

if TYPE_CHECKING:
    pass

T = TypeVar("T")

cli = typer.Typer(no_args_is_help=True, help="smartcharge: central smart charging for EV charge points.")
db_cli = typer.Typer(no_args_is_help=True, help="Database migrations.")
cli.add_typer(db_cli, name="db")
apikey_cli = typer.Typer(no_args_is_help=True, help="API keys (bearer tokens with a role).")
cli.add_typer(apikey_cli, name="apikey")
cli.add_typer(user_cli, name="user")


@cli.command()
def serve(
    host: str | None = typer.Option(None, help="API host (default from SMARTCHARGE_API_HOST)"),
    port: int | None = typer.Option(None, help="API port (default from SMARTCHARGE_API_PORT)"),
    role: ProcessRole | None = typer.Option(
        None,
        help="all (default: API, OCPP server and scheduler in one process), or one part of a scale-out "
        "layout on PostgreSQL and Redis: gateway, api, scheduler (default from SMARTCHARGE_ROLE)",
    ),
) -> None:
    """Run the API, the OCPP 1.6J server and the scheduler in one process (or one of them: --role)."""
    import uvicorn

    from app.console.banner import where_to_go
    from app.db.migrate import unready
    from app.logs import configure_logging
    from app.main import create_app

    settings = Settings() if role is None else Settings(role=role)
    problem = settings.scale_out_problem() or unready(settings.database_url)
    if problem is not None:
        typer.echo(f"error: {problem}", err=True)
        raise typer.Exit(1)
    configure_logging(settings)
    host = settings.api_host if host is None else host
    port = settings.api_port if port is None else port
    config = uvicorn.Config(
        create_app(settings), host=host, port=port, log_level=settings.log_level.lower(), log_config=None
    )
    if settings.role == ProcessRole.all:
        typer.echo(where_to_go(settings, host, port))
    else:
        typer.echo(f"role {settings.role.value}: /health and /metrics on http://{host}:{port}", err=True)
    tune_garbage_collector()
    uvicorn.Server(config).run()  # on uvloop when installed (uvicorn[standard] installs it)


@cli.command()
def cluster(
    gateways: int = typer.Option(2, min=1, help="gateway processes (gw-1, gw-2, …)"),
    schedulers: int = typer.Option(1, min=0, help="scheduler processes (scheduler-1, …)"),
    host: str = typer.Option("127.0.0.1", help="address every process listens on"),
    api_port: int = typer.Option(8000, help="the API process's port (0: a free one)"),
    http_port: int = typer.Option(
        8101, help="first /health, /ready and /metrics port of the others (0: free)"
    ),
    ocpp_port: int = typer.Option(
        9001, help="first gateway's OCPP port, the next ones follow (0: free ports)"
    ),
    ready_timeout_s: float = typer.Option(60.0, help="how long to wait for every process's /ready"),
) -> None:
    """Start a local scale-out layout to try it out: gateways, schedulers and an API process on
    SMARTCHARGE_DATABASE_URL (PostgreSQL) and SMARTCHARGE_REDIS_URL, until Ctrl-C or SIGTERM stops them."""
    import signal
    import time

    from app.cluster.local import LocalLayout, plan_layout
    from app.db.migrate import upgrade

    settings = Settings(role=ProcessRole.api)
    problem = settings.scale_out_problem()
    if problem is not None:
        typer.echo(f"error: the layout's processes need what every scale-out role needs; {problem}", err=True)
        raise typer.Exit(1)
    upgrade(settings.database_url, "head")
    specs = plan_layout(
        gateways, schedulers, host=host, api_port=api_port, http_port=http_port, ocpp_port=ocpp_port
    )
    layout = LocalLayout(specs)

    def stop_on_sigterm(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop_on_sigterm)
    try:
        layout.start()
        for spec, process in zip(specs, layout.processes, strict=True):
            typer.echo(spec.describe(process.pid))
        layout.wait_ready(ready_timeout_s)
        typer.echo(f"ready: {len(specs)} processes; Ctrl-C stops them all")
        while (gone := layout.stopped()) is None:
            time.sleep(0.5)
        typer.echo(f"error: the {gone.role} process {gone.name} stopped; stopping the others", err=True)
        raise typer.Exit(1)
    except RuntimeError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from error
    except KeyboardInterrupt:
        typer.echo("stopping", err=True)
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second signal must not cut the stop short
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        layout.stop()


@db_cli.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head")) -> None:
    """Apply migrations to SMARTCHARGE_DATABASE_URL."""
    from app.db.migrate import upgrade

    upgrade(Settings().database_url, revision)


@db_cli.command("downgrade")
def db_downgrade(revision: str = typer.Argument(...)) -> None:
    """Revert migrations down to REVISION."""
    from app.db.migrate import downgrade

    downgrade(Settings().database_url, revision)


@apikey_cli.command("create")
def apikey_create(
    role: Role = typer.Option(..., help="admin, operator, grid_operator or analyst"),
    name: str = typer.Option("api key", help="what the key is for"),
    site: list[int] | None = typer.Option(None, help="grid operators: a site the key may read (repeatable)"),
) -> None:
    """Create a key and print its token (on stdout, once: it is not stored)."""
    from app.services.access import create_api_key

    async def work(uow: UnitOfWork) -> tuple[int | None, str]:
        key, token = await create_api_key(uow, role, name, site_ids=site or None)
        return key.id, token

    key_id, token = asyncio.run(_in_unit_of_work(Settings(), work))
    typer.echo(f"created API key {key_id} ({role.value}, {name!r}); the token is shown only now:", err=True)
    typer.echo(token)


@apikey_cli.command("list")
def apikey_list() -> None:
    """List keys: id, role, name, token prefix, created, revoked."""
    from app.domain.paging import Window
    from app.services.access import list_api_keys

    async def work(uow: UnitOfWork) -> list[ApiKey]:
        return (await list_api_keys(uow, Window(limit=1_000_000))).items

    for key in asyncio.run(_in_unit_of_work(Settings(), work)):
        revoked = key.revoked_at.isoformat() if key.revoked_at else "-"
        typer.echo(
            f"{key.id}\t{key.role}\t{key.name}\t{key.prefix}…\t{key.created_at.isoformat()}\t{revoked}"
        )


@apikey_cli.command("revoke")
def apikey_revoke(key_id: int = typer.Argument(..., help="the key's id (see `apikey list`)")) -> None:
    """Revoke a key: requests with its token are refused from now on."""
    from app.services.access import revoke_api_key

    async def work(uow: UnitOfWork) -> bool:
        return await revoke_api_key(uow, key_id) is not None

    if not asyncio.run(_in_unit_of_work(Settings(), work)):
        typer.echo(f"no API key {key_id}", err=True)
        raise typer.Exit(1)
    typer.echo(f"revoked API key {key_id}", err=True)


cli.command()(simulate)


@cli.command()
def demo(
    charge_points: int = typer.Option(20, "--charge-points", "-n", min=1, help="number of charge points"),
    hours: float = typer.Option(24.0, help="simulated hours from 00:00 UTC of --day"),
    day: datetime = typer.Option(
        "2024-03-05", formats=["%Y-%m-%d"], help="the simulated day (UTC), fixed: a seed gives the same run"
    ),
    speed: float = typer.Option(720.0, help="simulated seconds per real second (720: a day in two minutes)"),
    seed: int = typer.Option(1, help="seed of the EV visits"),
    database_url: str | None = typer.Option(
        None, "--database-url", help="default: SQLite in a temporary directory (e.g. sqlite:///var/demo.db)"
    ),
    picture: Path = typer.Option(Path("var/demo.png"), help="where to draw the day (PNG)"),
) -> None:
    """Start the service, set up a demo site with a forecast, run a simulated fleet through a day; report."""
    from rich.console import Console

    from app.demo import DemoConfig, print_report, run_demo

    console = Console()
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("ocpp").setLevel(logging.CRITICAL)
    from app.demo.picture import save

    config = DemoConfig(
        charge_points=charge_points,
        hours=hours,
        speed=speed,
        seed=seed,
        database_url=database_url,
        day=day.replace(tzinfo=UTC),
    )
    report = asyncio.run(run_demo(config, console))
    print_report(report, console)
    console.print(f"picture of the day: {save(report, picture)}")
    if report.violations:
        raise typer.Exit(1)


@cli.command()
def optimize(
    instance: Path = typer.Argument(..., help="instance file: smartcharge-instance/1 JSON"),
    output: Path | None = typer.Option(None, "--output", "-o", help="write the schedule here, not stdout"),
    solver: str = typer.Option("highs", help="highs | cbc | pulp-highs"),
    strategy: str = typer.Option("lp", help="lp | equal-share | edf | uncontrolled"),
    time_limit: float | None = typer.Option(None, "--time-limit", help="LP seconds, then EDF fallback"),
    max_periods: int | None = typer.Option(None, "--max-periods", help="also give periods, at most N"),
    compare: bool = typer.Option(False, "--compare", help="every strategy: one table of how each did"),
    plot: Path | None = typer.Option(None, "--plot", help="draw the load against capacity (.png)"),
) -> None:
    """Plan an instance file: a schedule per session (smartcharge-schedule/1 JSON); exit 2 on bad input.
    With --compare, a table of every strategy instead of the JSON (-o still writes --strategy's)."""
    from optimizer.instance import run_optimize

    try:
        text = instance.read_text(encoding="utf-8")
    except OSError as error:
        typer.echo(f"error: {instance}: {error.strerror or error}", err=True)
        raise typer.Exit(2) from None
    if compare or plot is not None:
        from rich.console import Console

        from app.cli_optimize import OptionError, compare_and_plot

        try:
            compare_and_plot(
                text,
                strategy=strategy,
                solver=solver,
                time_limit_s=time_limit,
                max_periods=max_periods,
                every_strategy=compare,
                plot=plot,
                output=output,
                console=Console(width=160),
            )
        except OptionError as error:
            typer.echo(f"error: {error}", err=True)
            raise typer.Exit(2) from None
        if output is not None or compare:
            return
    code, out = run_optimize(
        text, strategy=strategy, solver=solver, time_limit_s=time_limit, max_periods=max_periods
    )
    if code:
        typer.echo(f"error: {out}", err=True)
        raise typer.Exit(code)
    if output is None:
        typer.echo(out, nl=False)
    else:
        output.write_text(out, encoding="utf-8")
        typer.echo(f"schedule ({strategy}) written to {output}")


def main() -> None:
    cli()
