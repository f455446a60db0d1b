from datetime import UTC, datetime


class SystemClock:
    """The real UTC clock. Tests and the accelerated simulator inject their own `Clock`."""

    def now(self) -> datetime:
        return datetime.now(UTC)
