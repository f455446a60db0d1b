"""Migrations: head creates exactly the tables the models declare (SQLite and PostgreSQL); base drops them."""

from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect
from sqlmodel import SQLModel

from app.db.engine import sync_url
from app.db.migrate import downgrade, upgrade


def differences(database_url: str) -> list[Any]:
    engine = create_engine(sync_url(database_url))
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return list(compare_metadata(context, SQLModel.metadata))
    finally:
        engine.dispose()


def tables(database_url: str) -> set[str]:
    engine = create_engine(sync_url(database_url))
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_head_matches_the_models(database_url: str) -> None:
    upgrade(database_url, "head")
    assert differences(database_url) == []
    assert set(SQLModel.metadata.tables) <= tables(database_url)


def test_upgrade_is_idempotent_and_downgrade_to_base_works(database_url: str) -> None:
    upgrade(database_url, "head")
    upgrade(database_url, "head")
    downgrade(database_url, "base")
    assert tables(database_url) <= {"alembic_version"}
    upgrade(database_url, "head")
    assert differences(database_url) == []


@pytest.mark.parametrize("table", ["charge_point", "transaction", "meter_value", "command", "api_key"])
def test_core_tables_exist_at_head(database_url: str, table: str) -> None:
    upgrade(database_url, "head")
    assert table in tables(database_url)
