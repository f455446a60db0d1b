"""OCPP 1.6 wire formats at the edge: dateTimes parsed and formatted, meterValue elements and `idTagInfo`
translated. The services see datetimes and domain values only."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from app.domain.clock import as_utc
from app.domain.metering import (
    DEFAULT_CONTEXT,
    DEFAULT_FORMAT,
    DEFAULT_LOCATION,
    DEFAULT_MEASURAND,
    SampledValue,
)
from app.services.ocpp.authorisation import IdTagInfo


def parse_timestamp(text: str) -> datetime:
    """Parse an OCPP dateTime (ISO 8601, `Z` or an offset; a missing zone is taken as UTC)."""
    return as_utc(datetime.fromisoformat(text.strip()))


def format_timestamp(value: datetime, *, timespec: str = "milliseconds") -> str:
    """An OCPP dateTime in UTC with a `Z`, to the millisecond (or as `timespec` says)."""
    return as_utc(value).isoformat(timespec=timespec).replace("+00:00", "Z")


def sampled_values(meter_value: Sequence[dict[str, Any]], sampled_key: str) -> list[SampledValue]:
    """meterValue elements → one `SampledValue` per sampledValue (under `sampled_key`: the payload's
    "sampledValue", or "sampled_value" once snake-cased), defaults filled in."""
    samples = []
    for element in meter_value:
        timestamp: datetime = parse_timestamp(element["timestamp"])
        for sampled in element[sampled_key]:
            get = sampled.get
            samples.append(
                SampledValue(  # positional: cheaper than keywords, on every sample
                    timestamp,
                    sampled["value"],
                    get("context") or DEFAULT_CONTEXT,
                    get("format") or DEFAULT_FORMAT,
                    get("measurand") or DEFAULT_MEASURAND,
                    get("phase"),
                    get("location") or DEFAULT_LOCATION,
                    get("unit"),
                )
            )
    return samples


def id_tag_info(info: IdTagInfo) -> dict[str, Any]:
    """`idTagInfo` as the `ocpp` package's call results take it (snake_case)."""
    expiry = format_timestamp(info.expiry_date) if info.expiry_date else None
    return {"status": info.status, "expiry_date": expiry, "parent_id_tag": info.parent_id_tag}
