"""Date-times the central system sends: RFC 3339 with an offset in, UTC with `Z` out.

What a charge point sends us is read leniently (`wire.parse_timestamp`); what we send it is not. A
command's payload names each dateTime (ReserveNow `expiryDate`, GetDiagnostics `startTime`/`stopTime`,
UpdateFirmware `retrieveDate`, a charging profile's `validFrom`, `validTo` and `startSchedule`, ...) as
RFC 3339 §5.6 `date-time`: a full date and time with seconds and an offset. `2030-01-01`, `20300101T120000Z`
or a time without an offset is refused before anything is stored or sent; a valid one is sent as UTC with
`Z`. The fields are found from the operation's OCPP 1.6 JSON schema (`format: date-time`).
"""

import json
import re
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any

from app.domain.clock import as_utc
from ocpp_gateway.wire import format_timestamp

__all__ = ["InvalidDateTime", "outbound_datetimes"]

RFC3339 = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?P<fraction>\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})", re.ASCII
)


class InvalidDateTime(ValueError):
    """A dateTime in a command's payload that is not RFC 3339 with an offset."""


def outbound_datetimes(action: str, payload: dict[str, Any]) -> dict[str, Any]:
    """`payload` (valid against its schema) with every dateTime as UTC `Z`; `InvalidDateTime` otherwise."""
    root = _schema(action)
    converted: dict[str, Any] = _convert(root, root, payload, "payload")
    return converted


def _convert(root: dict[str, Any], schema: dict[str, Any], value: Any, where: str) -> Any:
    if "$ref" in schema:  # "#/definitions/Name" (the security extension's schemas)
        schema = root["definitions"][schema["$ref"].rsplit("/", 1)[-1]]
    if schema.get("format") == "date-time" and isinstance(value, str):
        return _utc(value, where)
    if isinstance(value, dict) and "properties" in schema:
        properties = schema["properties"]
        return {
            key: _convert(root, properties[key], item, f"{where}.{key}") if key in properties else item
            for key, item in value.items()
        }
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [_convert(root, schema["items"], item, f"{where}[{i}]") for i, item in enumerate(value)]
    return value


def _utc(text: str, where: str) -> str:
    matched = RFC3339.fullmatch(text)
    try:
        if matched is None:
            raise ValueError(text)
        parsed = datetime.fromisoformat(text.upper())
    except ValueError:
        raise InvalidDateTime(
            f"{where}: {text!r} is not an RFC 3339 date-time with an offset"
            " (e.g. 2030-01-01T12:00:00Z or 2030-01-01T13:00:00+01:00)"
        ) from None
    return format_timestamp(as_utc(parsed), timespec="milliseconds" if matched["fraction"] else "seconds")


@cache
def _schema(action: str) -> dict[str, Any]:
    text = resources.files("ocpp.v16.schemas").joinpath(f"{action}.json").read_text("utf-8-sig")
    schema: dict[str, Any] = json.loads(text)
    return schema
