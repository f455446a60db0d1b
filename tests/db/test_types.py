"""`UTCDateTime`'s own SQLite bind step stores exactly the text SQLAlchemy's DATETIME would."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import DateTime
from sqlalchemy.dialects import sqlite

from app.db.types import UTCDateTime

DIALECT = sqlite.dialect()


@pytest.mark.parametrize(
    "value",
    [
        datetime(2026, 11, 26, 15, 0, 0, tzinfo=UTC),  # no microseconds: still written out
        datetime(999, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
        datetime(2026, 3, 1, 0, 30, 0, 123456, tzinfo=timezone(timedelta(hours=5, minutes=30))),
        datetime(2026, 3, 1, 0, 30, 0, 123456, tzinfo=timezone(timedelta(hours=-8))),
    ],
)
def test_sqlite_text_is_sqlalchemys_datetime_text_in_utc(value: datetime) -> None:
    reference = DateTime(timezone=True).dialect_impl(DIALECT).bind_processor(DIALECT)
    ours = UTCDateTime().dialect_impl(DIALECT).bind_processor(DIALECT)
    assert reference is not None
    assert ours is not None
    assert ours(value) == reference(value.astimezone(UTC))
    assert ours(value) == ours(value.astimezone(UTC))  # one instant, one text, whatever the offset
    assert ours(None) is None


def test_naive_values_are_refused_on_sqlite() -> None:
    ours = UTCDateTime().dialect_impl(DIALECT).bind_processor(DIALECT)
    assert ours is not None
    with pytest.raises(ValueError, match="naive"):
        ours(datetime(2026, 11, 26, 15, 0, 0))
