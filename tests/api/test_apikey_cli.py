"""`smartcharge apikey create | list | revoke` against a real database."""

import asyncio

import pytest
from typer.testing import CliRunner

from app.cli import cli
from app.db.engine import Database, create_engine
from app.db.store import SqlUnitOfWork
from app.domain.access import Principal
from app.services.access import authenticate


def principal(database_url: str, token: str) -> Principal | None:
    async def check() -> Principal | None:
        database = Database(create_engine(database_url))
        try:
            async with database.session() as session:
                return await authenticate(SqlUnitOfWork(session), token)
        finally:
            await database.dispose()

    return asyncio.run(check())


def test_create_list_revoke(migrated_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMARTCHARGE_DATABASE_URL", migrated_url)
    runner = CliRunner()
    created = runner.invoke(
        cli, ["apikey", "create", "--role", "grid_operator", "--name", "dso", "--site", "3"]
    )
    assert created.exit_code == 0, created.output
    token = created.stdout.strip()
    assert token.startswith("sc_")
    assert "shown only now" in created.stderr
    found = principal(migrated_url, token)
    assert found is not None
    assert (found.role.value, found.name, found.site_ids) == ("grid_operator", "dso", frozenset({3}))

    listed = runner.invoke(cli, ["apikey", "list"])
    assert listed.exit_code == 0
    (line,) = listed.stdout.strip().splitlines()
    assert line.split("\t")[:3] == [str(found.key_id), "grid_operator", "dso"]
    assert token not in listed.stdout

    revoked = runner.invoke(cli, ["apikey", "revoke", str(found.key_id)])
    assert revoked.exit_code == 0
    assert principal(migrated_url, token) is None
    assert runner.invoke(cli, ["apikey", "revoke", "999"]).exit_code == 1
    assert runner.invoke(cli, ["apikey", "create", "--role", "superuser"]).exit_code == 2
