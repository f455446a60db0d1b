"""Meter values as stored: every sampledValue raw beside its value in W, Wh, A or V, under a dedup key.

A `MeterValuesMessage` builds its rows when it is made, on the connection's own task: the group commit's
writer, through which every message passes one after another, then only resolves the transaction id and
inserts them.
"""

import functools
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from app.domain.clock import as_utc

DEFAULT_CONTEXT = "Sample.Periodic"
DEFAULT_FORMAT = "Raw"
DEFAULT_MEASURAND = "Energy.Active.Import.Register"
DEFAULT_LOCATION = "Outlet"
ENERGY_REGISTER = DEFAULT_MEASURAND

# unit → (factor, normalised unit); units not listed keep their raw value and unit (Celsius, Percent, …).
UNIT_SCALE: dict[str, tuple[float, str]] = {
    "Wh": (1.0, "Wh"),
    "kWh": (1000.0, "Wh"),
    "W": (1.0, "W"),
    "kW": (1000.0, "W"),
    "varh": (1.0, "varh"),
    "kvarh": (1000.0, "varh"),
    "var": (1.0, "var"),
    "kvar": (1000.0, "var"),
    "VA": (1.0, "VA"),
    "kVA": (1000.0, "VA"),
    "A": (1.0, "A"),
    "V": (1.0, "V"),
}

# The spec's default unit is Wh (for the default measurand); for other measurands a missing unit is
# taken as the measurand's natural unit rather than Wh, which would be meaningless.
_NATURAL_UNIT = {
    "Energy.Active": "Wh",
    "Energy.Reactive": "varh",
    "Power.Active": "W",
    "Power.Offered": "W",
    "Power.Reactive": "var",
    "Current": "A",
    "Voltage": "V",
    "SoC": "Percent",
    "Temperature": "Celsius",
}


class SampledValue(NamedTuple):
    """One sampledValue of a meterValue element, with the spec's defaults filled in (a named tuple: built
    for every sample of every message, at a fifth of a frozen dataclass's cost)."""

    timestamp: datetime
    value: str
    context: str = DEFAULT_CONTEXT
    format: str = DEFAULT_FORMAT
    measurand: str = DEFAULT_MEASURAND
    phase: str | None = None
    location: str = DEFAULT_LOCATION
    unit: str | None = None

    @property
    def effective_unit(self) -> str:
        return self.unit or natural_unit(self.measurand)


@functools.lru_cache(maxsize=256)
def natural_unit(measurand: str) -> str:
    """The unit of a sample of `measurand` that names none."""
    for prefix, unit in _NATURAL_UNIT.items():
        if measurand.startswith(prefix):
            return unit
    return "Wh"


def normalise(value: str, unit: str, value_format: str) -> tuple[float | None, str | None]:
    """(value, unit) in W, Wh, A, V, var(h), VA; other units raw; signed or non-numeric → (None, None)."""
    if value_format != DEFAULT_FORMAT:
        return None, None
    try:
        number = float(value)
    except ValueError:
        return None, None
    factor, normalised_unit = UNIT_SCALE.get(unit, (1.0, unit))
    return number * factor, normalised_unit


# A dedup key is the sample's UTC time ("20261126T150000.123456") and 40 hex digits of the SHA-256 of
# everything that makes it the same sample. The time first keeps the unique index append-mostly: new keys
# land at its right edge, not on a random page each (with a bare hash, every insert dirtied a page of its
# own, and a commit wrote ~4 KiB per row; measured 6x slower on SQLite, and growing with the table).
DEDUP_TIME_FORMAT = "%Y%m%dT%H%M%S.%f"
DEDUP_HASH_DIGITS = 40

# A row is a tuple of these MeterValue columns, in this order (built for every sample of every message:
# no dict per row, and the insert takes the tuples as they are).
COLUMNS = (
    "charge_point_id",
    "connector_id",
    "transaction_id",
    "timestamp",
    "value",
    "context",
    "format",
    "measurand",
    "phase",
    "location",
    "unit",
    "value_normalised",
    "unit_normalised",
    "source",
    "dedup_key",
    "received_at",
)
DEDUP_KEY = "dedup_key"
Row = tuple[Any, ...]


def dedup_key(
    charge_point_id: str, connector_id: int, transaction_id: int | None, sample: SampledValue
) -> str:
    _utc, iso, ordered = _key_times(sample.timestamp)
    return _keyed(_key_head(charge_point_id, connector_id, transaction_id), iso, ordered, sample)


def _key_head(charge_point_id: str, connector_id: int, transaction_id: int | None) -> str:
    return f"{charge_point_id}\x1f{connector_id}\x1f{'' if transaction_id is None else transaction_id}"


def _keyed(head: str, iso: str, ordered: str, sample: SampledValue) -> str:
    """The dedup key of `sample` from its connection's head and its instant's two texts (`_key_times`)."""
    _, value, context, _, measurand, phase, location, _ = sample
    hashed = f"{head}\x1f{iso}\x1f{measurand}\x1f{phase or ''}\x1f{location}\x1f{context}\x1f{value}"
    return f"{ordered}|{hashlib.sha256(hashed.encode()).hexdigest()[:DEDUP_HASH_DIGITS]}"


def _key_times(timestamp: datetime) -> tuple[datetime, str, str]:
    """The instant in UTC, as ISO 8601 UTC (hashed) and as the key's sortable prefix."""
    utc = as_utc(timestamp)
    return utc, utc.isoformat(), utc.strftime(DEDUP_TIME_FORMAT)


def build_rows(
    charge_point_id: str,
    connector_id: int,
    transaction_id: int | None,
    samples: Sequence[SampledValue],
    source: str,
    now: datetime,
) -> dict[str, Row]:
    """The MeterValue rows (`COLUMNS`) of `samples` by dedup key (a sample repeated in one message is one
    row). On every sample of every message: the samples of one meterValue element share their timestamp
    object, so its texts are made once per element."""
    found = {}
    head = _key_head(charge_point_id, connector_id, transaction_id)
    timestamp: datetime | None = None
    utc: datetime
    iso = ordered = ""
    for sample in samples:
        if sample.timestamp is not timestamp:
            timestamp = sample.timestamp
            utc, iso, ordered = _key_times(timestamp)
        _, value, context, value_format, measurand, phase, location, unit = sample
        unit = unit or natural_unit(measurand)
        value_normalised, unit_normalised = normalise(value, unit, value_format)
        key = _keyed(head, iso, ordered, sample)
        found[key] = (
            charge_point_id,
            connector_id,
            transaction_id,
            utc,
            value,
            context,
            value_format,
            measurand,
            phase,
            location,
            unit,
            value_normalised,
            unit_normalised,
            source,
            key,
            now,
        )
    return found


@dataclass(frozen=True)
class MeterValuesMessage:
    """One MeterValues CALL as the batched write takes it (`transaction_id` as the charge point sent it).

    Its rows are built when the message is, by the connection's own task, for the transaction id as sent
    (which nearly always resolves to itself).
    """

    charge_point_id: str
    connector_id: int
    transaction_id: int | None
    samples: Sequence[SampledValue]
    now: datetime
    source: str = "MeterValues"
    claimed_rows: dict[str, Row] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "claimed_rows", self._rows_for(self.claimed_transaction_id))

    @property
    def claimed_transaction_id(self) -> int | None:
        tx = self.transaction_id
        return tx if tx is not None and tx >= 0 else None

    def rows(self, transaction_id: int | None) -> dict[str, Row]:
        """The rows with `transaction_id` as resolved, by dedup key."""
        if transaction_id == self.claimed_transaction_id:
            return self.claimed_rows
        return self._rows_for(transaction_id)

    def _rows_for(self, transaction_id: int | None) -> dict[str, Row]:
        return build_rows(
            self.charge_point_id, self.connector_id, transaction_id, self.samples, self.source, self.now
        )
