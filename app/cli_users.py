"""`smartcharge user …`: console users (people who log in to the console with a password), and the unit of
work the CLI's database commands run in."""

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import TypeVar

import typer

from app.domain.access import ConsoleUser
from app.domain.enums import Role
from app.domain.persistence import UnitOfWork
from app.services.errors import ServiceError
from app.settings import Settings

T = TypeVar("T")

__all__ = ["in_unit_of_work", "user_cli"]

user_cli = typer.Typer(no_args_is_help=True, help="Console users (log in with a username and a password).")


async def in_unit_of_work(settings: Settings, work: Callable[[UnitOfWork], Awaitable[T]]) -> T:
    from app.db.engine import Database, create_engine
    from app.db.store import SqlStore
    from app.domain.bus import EventBus

    database = Database(create_engine(settings.database_url))
    try:
        async with SqlStore(database, EventBus()).unit_of_work() as uow:
            return await work(uow)
    finally:
        await database.dispose()


def _run(work: Callable[[UnitOfWork], Awaitable[T]]) -> T:
    try:
        return asyncio.run(in_unit_of_work(Settings(), work))
    except ServiceError as exc:
        typer.echo(f"error: {exc.detail}", err=True)
        raise typer.Exit(1) from exc


def _new_password(from_stdin: bool) -> str:
    from app.services.users import hashed

    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    try:
        return asyncio.run(hashed(password))
    except ServiceError as exc:
        typer.echo(f"error: {exc.detail}", err=True)
        raise typer.Exit(1) from exc


STDIN_HELP = "read the password from the first line of stdin (else it is asked for, hidden)"


@user_cli.command("create")
def user_create(
    username: str = typer.Option(..., help="what the user logs in with (any case)"),
    role: Role = typer.Option(..., help="admin, operator, grid_operator or analyst"),
    site: list[int] | None = typer.Option(None, help="grid operators: a site the user may see (repeatable)"),
    password_stdin: bool = typer.Option(False, "--password-stdin", help=STDIN_HELP),
) -> None:
    """Create a console user; its password is stored as an Argon2id hash."""
    from app.services.users import create_user

    password_hash = _new_password(password_stdin)

    async def work(uow: UnitOfWork) -> ConsoleUser:
        return await create_user(uow, username, password_hash, role, site_ids=site or None)

    user = _run(work)
    typer.echo(f"created user {user.id} {user.username!r} ({user.role})", err=True)


@user_cli.command("list")
def user_list() -> None:
    """List users: id, username, role, sites, created, disabled."""
    from app.domain.paging import Window
    from app.services.users import list_users

    async def work(uow: UnitOfWork) -> list[ConsoleUser]:
        return (await list_users(uow, Window(limit=1_000_000))).items

    for user in _run(work):
        sites = ",".join(map(str, user.site_ids)) if user.site_ids else "-"
        disabled = user.disabled_at.isoformat() if user.disabled_at else "-"
        typer.echo(
            f"{user.id}\t{user.username}\t{user.role}\t{sites}\t{user.created_at.isoformat()}\t{disabled}"
        )


@user_cli.command("password")
def user_password(
    user_id: int = typer.Argument(..., help="the user's id (see `user list`)"),
    password_stdin: bool = typer.Option(False, "--password-stdin", help=STDIN_HELP),
) -> None:
    """Set a user's password; its console sessions end."""
    from app.services.users import set_password

    password_hash = _new_password(password_stdin)

    async def work(uow: UnitOfWork) -> ConsoleUser:
        return await set_password(uow, user_id, password_hash)

    typer.echo(f"changed the password of {_run(work).username!r}", err=True)


@user_cli.command("disable")
def user_disable(
    user_id: int = typer.Argument(..., help="the user's id (see `user list`)"),
    enable: bool = typer.Option(False, "--enable", help="enable a disabled user again"),
) -> None:
    """Disable a user (its sessions end, it can no longer log in), or enable it again."""
    from app.services.users import disable_user

    async def work(uow: UnitOfWork) -> ConsoleUser:
        return await disable_user(uow, user_id, disabled=not enable)

    user = _run(work)
    typer.echo(f"{'enabled' if enable else 'disabled'} user {user.username!r}", err=True)
