"""`smartcharge user create | list | password | disable` against a real database: the password stored is an
Argon2id hash that verifies, and the user can then log in to the console."""

import asyncio

import pytest
from typer.testing import CliRunner

from app.cli import cli
from app.db.engine import Database, create_engine
from app.db.store import SqlUnitOfWork
from app.domain.access import ConsoleUser, Principal
from app.services.users import check_password, principal_of


def logs_in(database_url: str, username: str, password: str) -> Principal | None:
    async def check() -> Principal | None:
        database = Database(create_engine(database_url))
        try:
            async with database.session() as session:
                principal, password_hash = await principal_of(SqlUnitOfWork(session), username)
            return principal if await check_password(password_hash, password) else None
        finally:
            await database.dispose()

    return asyncio.run(check())


def stored(database_url: str, username: str) -> ConsoleUser | None:
    async def read() -> ConsoleUser | None:
        database = Database(create_engine(database_url))
        try:
            async with database.session() as session:
                return await SqlUnitOfWork(session).console_users.by_username(username)
        finally:
            await database.dispose()

    return asyncio.run(read())


def test_create_list_change_the_password_disable(migrated_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMARTCHARGE_DATABASE_URL", migrated_url)
    runner = CliRunner()
    args = ["user", "create", "--username", "Alice", "--role", "grid_operator", "--site", "3"]
    created = runner.invoke(cli, [*args, "--password-stdin"], input="correct horse battery\n")
    assert created.exit_code == 1  # site 3 does not exist
    assert "site_ids: site 3 does not exist" in created.stderr

    created = runner.invoke(
        cli,
        ["user", "create", "--username", "Alice", "--role", "operator"],
        input="correct horse battery\n" * 2,
    )
    assert created.exit_code == 0, created.output
    user = stored(migrated_url, "alice")
    assert user is not None
    assert user.password_hash.startswith("$argon2id$")
    assert "correct horse" not in user.password_hash
    found = logs_in(migrated_url, "ALICE", "correct horse battery")
    assert found is not None
    assert (found.role.value, found.name, found.user_id, found.key_id) == ("operator", "alice", user.id, None)
    assert logs_in(migrated_url, "alice", "correct horse batterY") is None
    assert logs_in(migrated_url, "bob", "correct horse battery") is None

    taken = runner.invoke(
        cli,
        ["user", "create", "--username", "alice", "--role", "analyst", "--password-stdin"],
        input="another long password\n",
    )
    assert taken.exit_code == 1
    assert "user 'alice' already exists" in taken.stderr
    short = runner.invoke(
        cli, ["user", "create", "--username", "bob", "--role", "analyst", "--password-stdin"], input="short\n"
    )
    assert short.exit_code == 1
    assert "password: at least 10 characters" in short.stderr
    assert stored(migrated_url, "bob") is None

    listed = runner.invoke(cli, ["user", "list"])
    assert listed.exit_code == 0
    (line,) = listed.stdout.strip().splitlines()
    assert line.split("\t")[:4] == [str(user.id), "alice", "operator", "-"]

    changed = runner.invoke(
        cli, ["user", "password", str(user.id), "--password-stdin"], input="a new password!\n"
    )
    assert changed.exit_code == 0, changed.output
    assert logs_in(migrated_url, "alice", "correct horse battery") is None
    assert logs_in(migrated_url, "alice", "a new password!") is not None

    assert runner.invoke(cli, ["user", "disable", str(user.id)]).exit_code == 0
    assert logs_in(migrated_url, "alice", "a new password!") is None
    assert runner.invoke(cli, ["user", "disable", str(user.id), "--enable"]).exit_code == 0
    assert logs_in(migrated_url, "alice", "a new password!") is not None
    assert runner.invoke(cli, ["user", "disable", "999"]).exit_code == 1
