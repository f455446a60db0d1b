"""Migrations: head creates exactly the tables the models declare (SQLite and PostgreSQL); base drops them."""

import hashlib
from datetime import UTC, datetime
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, insert, inspect, text

from app.db.engine import sync_url
from app.db.migrate import downgrade, include_name, upgrade
from app.db.tables import metadata
from app.db.tables.ocpp import charge_point_table, meter_value_table
from app.domain.metering import SampledValue, dedup_key


def differences(database_url: str) -> list[Any]:
    engine = create_engine(sync_url(database_url))
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "include_name": include_name}
            )
            return list(compare_metadata(context, metadata))
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
    assert set(metadata.tables) <= tables(database_url)


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


def test_0002_rewrites_stored_dedup_keys_as_the_code_now_computes_them(database_url: str) -> None:
    """A replay of a message stored before 0002 must still be recognised after it."""
    upgrade(database_url, "0001")
    at = datetime(2026, 11, 26, 15, 4, 5, 120000, tzinfo=UTC)
    sample = SampledValue(timestamp=at, value="1234", measurand="Power.Active.Import", phase="L2")
    parts = ("CP1", "1", "", at.isoformat(), sample.measurand, "L2", sample.location, sample.context, "1234")
    old_key = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()
    engine = create_engine(sync_url(database_url))
    try:
        with engine.begin() as connection:
            connection.execute(
                insert(charge_point_table).values(
                    id="CP1", registration_status="Accepted", connected=False, created_at=at
                )
            )
            connection.execute(
                insert(meter_value_table).values(
                    charge_point_id="CP1",
                    connector_id=1,
                    timestamp=at,
                    value="1234",
                    context=sample.context,
                    format=sample.format,
                    measurand=sample.measurand,
                    phase="L2",
                    location=sample.location,
                    unit="W",
                    source="MeterValues",
                    dedup_key=old_key,
                    received_at=at,
                )
            )
        upgrade(database_url, "head")
        upgrade(database_url, "head")
        with engine.connect() as connection:
            stored = connection.execute(text("SELECT dedup_key FROM meter_value")).scalar_one()
    finally:
        engine.dispose()
    assert stored == dedup_key("CP1", 1, None, sample) == f"20261126T150405.120000|{old_key[:40]}"
