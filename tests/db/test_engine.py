"""The SQLite engine's pool: a connection coming back is rolled back only when a transaction is open."""

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.db.engine import create_engine

pytestmark = pytest.mark.anyio


@dataclass
class Pooled:
    engine: AsyncEngine
    driver: Any  # the pool's one aiosqlite connection
    rollbacks: list[bool] = field(default_factory=list)  # per rollback: whether a transaction was open

    async def rows(self) -> int:
        async with self.engine.connect() as connection:
            return int((await connection.execute(text("SELECT count(*) FROM t"))).scalar_one())


@pytest.fixture
async def pooled(tmp_path: Path) -> AsyncIterator[Pooled]:
    engine = create_engine(f"sqlite:///{tmp_path / 'pool.db'}")
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE t (n INTEGER)"))
        driver = (await connection.get_raw_connection()).driver_connection
    state = Pooled(engine, driver)
    original = driver.rollback

    async def counted_rollback() -> None:
        state.rollbacks.append(driver.in_transaction)
        await original()

    driver.rollback = counted_rollback
    try:
        yield state
    finally:
        await engine.dispose()


async def test_a_committed_connection_comes_back_without_a_rollback(pooled: Pooled) -> None:
    async with pooled.engine.begin() as connection:
        await connection.execute(text("INSERT INTO t VALUES (1)"))
    assert pooled.rollbacks == []
    assert await pooled.rows() == 1
    assert not pooled.driver.in_transaction


async def test_a_transaction_left_open_on_the_driver_is_rolled_back_on_return(pooled: Pooled) -> None:
    async with pooled.engine.connect() as connection:
        driver = (await connection.get_raw_connection()).driver_connection
        await driver.execute("INSERT INTO t VALUES (1)")  # past SQLAlchemy: only the pool can clean up
        assert driver.in_transaction
    assert pooled.rollbacks == [True]
    assert not pooled.driver.in_transaction
    assert await pooled.rows() == 0


async def test_a_failed_unit_of_work_stores_nothing(pooled: Pooled) -> None:
    async def failing_unit() -> None:
        async with pooled.engine.begin() as connection:
            await connection.execute(text("INSERT INTO t VALUES (1)"))
            raise RuntimeError("the unit of work fails")

    with pytest.raises(RuntimeError, match="fails"):
        await failing_unit()
    assert pooled.rollbacks == [True]
    assert await pooled.rows() == 0
    assert not pooled.driver.in_transaction
