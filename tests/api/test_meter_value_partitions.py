"""Meter values outside every month partition (PostgreSQL: in the default one) read back as any other."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from app.db.partitions import MONTHS_AHEAD, month_partition, months
from app.db.retention import MeterValueUpkeep
from app.domain.clock import utcnow
from app.domain.enums import Role
from tests.api import seed
from tests.api.conftest import Api
from tests.fakes import FakeClock
from tests.gateway.helpers import eventually

pytestmark = pytest.mark.anyio

NOW = datetime(2026, 12, 7, 17, 0, tzinfo=UTC)
FAR_PAST = datetime(1999, 1, 1, tzinfo=UTC)
FAR_FUTURE = datetime(2100, 1, 1, tzinfo=UTC)


async def test_samples_far_from_now_are_listed_and_exported(api: Api) -> None:
    await seed.charge_point(api.database, "CP1")
    await MeterValueUpkeep(api.database, FakeClock(NOW), retention_days=None).upkeep()
    await seed.add(
        api.database,
        seed.meter_value("CP1", FAR_FUTURE, 3),
        seed.meter_value("CP1", NOW, 2),
        seed.meter_value("CP1", FAR_PAST, 1),
    )
    if api.database.engine.dialect.name == "postgresql":
        async with api.database.engine.connect() as connection:
            found = await connection.execute(text("SELECT value, tableoid::regclass::text FROM meter_value"))
            assert dict(found.all()) == {
                "1": "meter_value_default",
                "2": "meter_value_p202612",
                "3": "meter_value_default",
            }
    analyst = await api.client(Role.analyst)
    listed = (await analyst.get("/meter-values", params={"charge_point_id": "CP1"})).json()
    assert [item["value"] for item in listed["items"]] == ["1", "2", "3"]
    day = {"from": "2099-12-31T12:00:00Z", "to": "2100-01-01T12:00:00Z"}
    assert [item["value"] for item in (await analyst.get("/meter-values", params=day)).json()["items"]] == [
        "3"
    ]
    exported = await analyst.get(
        "/meter-values.csv", params={"from": "1998-12-31T00:00:00Z", "to": "1999-01-02T00:00:00Z"}
    )
    assert exported.status_code == 200, exported.text
    assert len(exported.text.strip().splitlines()) == 2  # the header and the far past sample


async def test_the_service_makes_this_month_and_the_next_at_start_up(api: Api) -> None:
    if api.database.engine.dialect.name != "postgresql":
        pytest.skip("SQLite keeps one table: no partitions to make")
    now = utcnow().date()
    ahead = list(months(now, now.replace(year=now.year + 1)))[: MONTHS_AHEAD + 1]
    wanted = {month_partition(month) for month in ahead}

    async def made() -> bool:
        async with api.database.engine.connect() as connection:
            found = await connection.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
            )
            return wanted <= {name for (name,) in found}

    await eventually(made, timeout_s=30)
