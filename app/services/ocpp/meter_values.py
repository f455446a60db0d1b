"""Meter values: every sampledValue stored raw beside its value in W, Wh, A or V; replays ignored."""

import functools
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.sql import insert_new_many
from app.db.tables.ocpp import transaction_table
from app.domain.clock import as_utc
from app.domain.events import MeterSample
from app.domain.ocpp import MeterValue, Transaction

DEFAULT_CONTEXT = "Sample.Periodic"
DEFAULT_FORMAT = "Raw"
DEFAULT_MEASURAND = "Energy.Active.Import.Register"
DEFAULT_LOCATION = "Outlet"

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


async def resolve_transaction(
    session: AsyncSession, charge_point_id: str, transaction_id: int | None
) -> int | None:
    """The transaction id if it is one of this charge point's, else None (unknown ids and -1 are kept out)."""
    if transaction_id is None or transaction_id < 0:
        return None
    transaction = await session.get(Transaction, transaction_id)
    if transaction is None or transaction.charge_point_id != charge_point_id:
        return None
    return transaction_id


async def store_samples(
    session: AsyncSession,
    charge_point_id: str,
    connector_id: int,
    transaction_id: int | None,
    samples: Sequence[SampledValue],
    *,
    source: str,
    now: datetime,
) -> int:
    """Insert the samples not stored before (by `dedup_key`); returns how many were new."""
    rows = _rows(charge_point_id, connector_id, transaction_id, samples, source, now)
    return len(await insert_new_many(session, MeterValue, COLUMNS, list(rows.values()), "dedup_key"))


@dataclass(frozen=True)
class MeterValuesMessage:
    """One MeterValues CALL as `store_many` takes it (`transaction_id` as the charge point sent it).

    Its rows are built when the message is, by the connection's own task, for the transaction id as sent
    (which nearly always resolves to itself): the group commit's writer, through which every message
    passes one after another, then only resolves the id and inserts.
    """

    charge_point_id: str
    connector_id: int
    transaction_id: int | None
    samples: Sequence[SampledValue]
    now: datetime
    source: str = "MeterValues"
    claimed_rows: dict[str, Row] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "claimed_rows", self._rows_for(self._claimed_transaction_id))

    @property
    def _claimed_transaction_id(self) -> int | None:
        tx = self.transaction_id
        return tx if tx is not None and tx >= 0 else None

    def rows(self, transaction_id: int | None) -> dict[str, Row]:
        """The rows with `transaction_id` as resolved, by dedup key."""
        if transaction_id == self._claimed_transaction_id:
            return self.claimed_rows
        return self._rows_for(transaction_id)

    def _rows_for(self, transaction_id: int | None) -> dict[str, Row]:
        return _rows(
            self.charge_point_id, self.connector_id, transaction_id, self.samples, self.source, self.now
        )


async def store_many(
    session: AsyncSession, messages: list[MeterValuesMessage]
) -> list[tuple[int | None, int]]:
    """`resolve_transaction` + `store_samples` for many messages in a few statements.

    Returns per message (its resolved transaction id, how many of its samples were new); a sample that
    two messages of the batch share counts for the first.
    """
    wanted = {m.transaction_id for m in messages if m.transaction_id is not None and m.transaction_id >= 0}
    owners: dict[int, str] = {}
    if wanted:
        found = await session.exec(
            select(transaction_table.c.id, transaction_table.c.charge_point_id).where(
                transaction_table.c.id.in_(wanted)
            )
        )
        owners = {int(tx_id): cp_id for tx_id, cp_id in found if tx_id is not None}
    resolved: list[int | None] = []
    rows: dict[str, Row] = {}
    keys_of: list[list[str]] = []
    for message in messages:
        tx = message.transaction_id
        tx_id = tx if tx is not None and owners.get(tx) == message.charge_point_id else None
        resolved.append(tx_id)
        own = message.rows(tx_id)
        keys_of.append([key for key in own if key not in rows])
        rows.update((key, row) for key, row in own.items() if key not in rows)
    inserted = await insert_new_many(session, MeterValue, COLUMNS, list(rows.values()), "dedup_key")
    return [
        (tx_id, sum(key in inserted for key in keys)) for tx_id, keys in zip(resolved, keys_of, strict=True)
    ]


def _rows(
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
    rows = {}
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
        rows[key] = (
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
    return rows


def summarise(samples: Iterable[SampledValue]) -> tuple[MeterSample, ...]:
    """Per timestamp: active import power (W), energy register (Wh), highest phase current (A), SoC (%)."""
    by_time: dict[datetime, list[SampledValue]] = {}
    for sample in samples:
        if sample.location in ("Outlet", "EV"):
            by_time.setdefault(as_utc(sample.timestamp), []).append(sample)
    return tuple(_summary(timestamp, group) for timestamp, group in sorted(by_time.items()))


def _summary(timestamp: datetime, samples: list[SampledValue]) -> MeterSample:
    values: dict[str, list[tuple[str | None, float]]] = {}
    for sample in samples:
        number, _unit = normalise(sample.value, sample.effective_unit, sample.format)
        if number is not None:
            values.setdefault(sample.measurand, []).append((sample.phase, number))

    def total(measurand: str) -> float | None:
        found = values.get(measurand)
        if not found:
            return None
        whole = [number for phase, number in found if phase is None]
        if whole:
            return whole[0]
        per_phase = [number for phase, number in found if phase in ("L1", "L2", "L3", "L1-N", "L2-N", "L3-N")]
        return sum(per_phase) if per_phase else None

    currents = [number for _phase, number in values.get("Current.Import", [])]
    return MeterSample(
        timestamp=timestamp,
        power_w=total("Power.Active.Import"),
        energy_wh=total("Energy.Active.Import.Register"),
        current_a=max(currents) if currents else None,
        soc_percent=total("SoC"),
    )
