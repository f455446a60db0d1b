"""Scale-out tests: real PostgreSQL (SMARTCHARGE_TEST_POSTGRES_URL) and a real Redis
(SMARTCHARGE_TEST_REDIS_URL, else redis://127.0.0.1:6379/0); skipped when either is missing.

Each test gets a schema of its own and a Redis prefix of its own, so tests may run side by side.
"""

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
import redis.asyncio as redis
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy import text

from app.db.engine import sync_url
from app.db.migrate import upgrade
from tests.conftest import POSTGRES_URL, _postgres_schema_url
from tests.scale.helpers import Layout

REDIS_URL = os.environ.get("SMARTCHARGE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


async def _redis_answers(url: str) -> bool:
    client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
    try:
        return bool(await client.ping())
    except Exception:
        return False
    finally:
        await client.aclose()


@pytest.fixture(scope="session")
def redis_url() -> str:
    if not asyncio.run(_redis_answers(REDIS_URL)):
        pytest.skip(f"no Redis at {REDIS_URL} (set SMARTCHARGE_TEST_REDIS_URL)")
    return REDIS_URL


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL schema, migrated to head, dropped after."""
    if POSTGRES_URL is None:
        pytest.skip("scale-out needs PostgreSQL: set SMARTCHARGE_TEST_POSTGRES_URL")
    schema = f"s_{uuid.uuid4().hex[:12]}"
    admin = create_sync_engine(sync_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = _postgres_schema_url(schema)
    upgrade(url, "head")  # the migrations, as `smartcharge serve` insists
    try:
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def prefix() -> str:
    return f"sctest-{uuid.uuid4().hex[:10]}"


@pytest.fixture
async def layout(pg_url: str, redis_url: str, prefix: str) -> AsyncIterator[Layout]:
    async with Layout(pg_url, redis_url, prefix) as started:
        yield started
