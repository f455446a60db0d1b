"""The `smartcharge` command line."""

import asyncio
import logging

import typer

from app.settings import Settings

cli = typer.Typer(no_args_is_help=True, help="smartcharge: central smart charging for EV charge points.")
db_cli = typer.Typer(no_args_is_help=True, help="Database migrations.")
cli.add_typer(db_cli, name="db")


@cli.command()
def serve(
    host: str | None = typer.Option(None, help="API host (default from SMARTCHARGE_API_HOST)"),
    port: int | None = typer.Option(None, help="API port (default from SMARTCHARGE_API_PORT)"),
) -> None:
    """Run the API, the OCPP 1.6J server and the scheduler in one process."""
    import uvicorn

    from app.main import create_app

    settings = Settings()
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    config = uvicorn.Config(
        create_app(settings),
        host=host or settings.api_host,
        port=port or settings.api_port,
        log_level=settings.log_level.lower(),
    )
    asyncio.run(uvicorn.Server(config).serve())


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


def main() -> None:
    cli()
