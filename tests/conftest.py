"""Shared fixtures: databases (SQLite always, PostgreSQL when SMARTCHARGE_TEST_POSTGRES_URL is set)."""

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy import text
from sqlalchemy.engine import make_url

from app.db.engine import Database, create_engine, sync_url
from app.db.tables import metadata

POSTGRES_URL = os.environ.get("SMARTCHARGE_TEST_POSTGRES_URL")
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)] if POSTGRES_URL else ["sqlite"]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _postgres_schema_url(schema: str) -> str:
    assert POSTGRES_URL is not None
    url = make_url(POSTGRES_URL)
    query = dict(url.query)
    query["options"] = f"-csearch_path={schema}"
    return url.set(query=query).render_as_string(hide_password=False)


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database URL per test: a SQLite file, or a fresh PostgreSQL schema (dropped after)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    with postgres_schema() as url:
        yield url


@contextmanager
def postgres_schema() -> Iterator[str]:
    """The URL of a fresh PostgreSQL schema, dropped after."""
    assert POSTGRES_URL is not None
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_sync_engine(sync_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield _postgres_schema_url(schema)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def migrated_url(database_url: str) -> str:
    """The database URL with all tables created from the metadata (fast; migrations are tested separately)."""
    engine = create_sync_engine(sync_url(database_url))
    metadata.create_all(engine)
    engine.dispose()
    return database_url


@pytest.fixture
async def database(migrated_url: str) -> AsyncIterator[Database]:
    db = Database(create_engine(migrated_url))
    try:
        yield db
    finally:
        await db.dispose()
