"""Logging set-up for `smartcharge serve`: plain text, or one JSON object per line
(`SMARTCHARGE_LOG_FORMAT=json`) for a log shipper, with the ids a record names (`extra={...}`) as fields."""

import logging
from datetime import UTC, datetime
from typing import Any

import orjson

from app.settings import LogFormat, Settings

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# fields a record may carry through `extra=` that a JSON line repeats as its own
CONTEXT_FIELDS = ("charge_point_id", "transaction_id", "site_id", "command_id", "role", "process_id")


class JsonFormatter(logging.Formatter):
    def __init__(self, role: str) -> None:
        super().__init__()
        self._role = role

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "role": self._role,
        }
        for name in CONTEXT_FIELDS:
            if name in record.__dict__:
                line[name] = record.__dict__[name]
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(line, default=str).decode()


def configure_logging(settings: Settings) -> None:
    handler = logging.StreamHandler()
    if settings.log_format == LogFormat.json:
        handler.setFormatter(JsonFormatter(settings.role.value))
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    logging.basicConfig(level=settings.log_level, handlers=[handler], force=True)
