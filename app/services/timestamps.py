"""UTC timestamps: parse what charge points send, read back what SQLite returns without a zone."""

from datetime import UTC, datetime


def as_utc(value: datetime) -> datetime:
    """A timezone-aware UTC datetime; naive values (SQLite reads them back so) are taken as UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def parse_timestamp(text: str) -> datetime:
    """Parse an OCPP dateTime (ISO 8601, `Z` or an offset; a missing zone is taken as UTC)."""
    return as_utc(datetime.fromisoformat(text.strip()))


def format_timestamp(value: datetime) -> str:
    """An OCPP dateTime in UTC with millisecond precision and a `Z`."""
    return as_utc(value).isoformat(timespec="milliseconds").replace("+00:00", "Z")
