"""Meter values: every sampledValue stored raw beside its value in W, Wh, A or V; replays ignored."""

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.tables import MeterValue, Transaction
from app.domain.events import MeterSample
from app.services.timestamps import as_utc
from app.services.upserts import insert_ignore_many, insert_ignore_returning

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


@dataclass(frozen=True)
class SampledValue:
    """One sampledValue of a meterValue element, with the spec's defaults filled in."""

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
        if self.unit:
            return self.unit
        for prefix, unit in _NATURAL_UNIT.items():
            if self.measurand.startswith(prefix):
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


def dedup_key(
    charge_point_id: str, connector_id: int, transaction_id: int | None, sample: SampledValue
) -> str:
    parts = (
        charge_point_id,
        str(connector_id),
        "" if transaction_id is None else str(transaction_id),
        as_utc(sample.timestamp).isoformat(),
        sample.measurand,
        sample.phase or "",
        sample.location,
        sample.context,
        sample.value,
    )
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


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
    inserted = await insert_ignore_returning(
        session, MeterValue, list(rows.values()), ["dedup_key"], col(MeterValue.id)
    )
    return len(inserted)


@dataclass(frozen=True)
class MeterValuesMessage:
    """One MeterValues CALL as `store_many` takes it (`transaction_id` as the charge point sent it)."""

    charge_point_id: str
    connector_id: int
    transaction_id: int | None
    samples: Sequence[SampledValue]
    now: datetime
    source: str = "MeterValues"


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
            select(Transaction.id, Transaction.charge_point_id).where(col(Transaction.id).in_(wanted))
        )
        owners = {int(tx_id): cp_id for tx_id, cp_id in found if tx_id is not None}
    resolved: list[int | None] = []
    rows: dict[str, dict[str, Any]] = {}
    keys_of: list[list[str]] = []
    for message in messages:
        tx = message.transaction_id
        tx_id = tx if tx is not None and owners.get(tx) == message.charge_point_id else None
        resolved.append(tx_id)
        own = _rows(
            message.charge_point_id, message.connector_id, tx_id, message.samples, message.source, message.now
        )
        keys_of.append([key for key in own if key not in rows])
        rows.update((key, row) for key, row in own.items() if key not in rows)
    inserted = set(
        await insert_ignore_many(session, MeterValue, list(rows.values()), ["dedup_key"], "dedup_key")
    )
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
) -> dict[str, dict[str, Any]]:
    """The MeterValue rows of `samples` by dedup key (a sample repeated in one message is one row)."""
    rows = {}
    for sample in samples:
        timestamp = as_utc(sample.timestamp)
        unit = sample.effective_unit
        value_normalised, unit_normalised = normalise(sample.value, unit, sample.format)
        key = dedup_key(charge_point_id, connector_id, transaction_id, sample)
        rows[key] = {
            "charge_point_id": charge_point_id,
            "connector_id": connector_id,
            "transaction_id": transaction_id,
            "timestamp": timestamp,
            "value": sample.value,
            "context": sample.context,
            "format": sample.format,
            "measurand": sample.measurand,
            "phase": sample.phase,
            "location": sample.location,
            "unit": unit,
            "value_normalised": value_normalised,
            "unit_normalised": unit_normalised,
            "source": source,
            "dedup_key": key,
            "received_at": now,
        }
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
