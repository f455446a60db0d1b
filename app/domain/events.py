"""Domain events: what happened, published on the bus (`app.domain.bus`) once it is stored.

Subscribers (the scheduler) receive every event and pick the types they care about.
"""

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class ChargePointConnected:
    charge_point_id: str
    timestamp: datetime


@dataclass(frozen=True)
class ChargePointDisconnected:
    charge_point_id: str
    timestamp: datetime


@dataclass(frozen=True)
class ChargePointBooted:
    charge_point_id: str
    registration_status: str
    vendor: str
    model: str
    timestamp: datetime


@dataclass(frozen=True)
class StatusChanged:
    """A connector's live status changed (connector 0 is the charge point as a whole)."""

    charge_point_id: str
    connector_id: int
    status: str
    timestamp: datetime


@dataclass(frozen=True)
class TransactionStarted:
    transaction_id: int
    charge_point_id: str
    connector_id: int
    id_tag: str
    timestamp: datetime
    meter_start_wh: int


@dataclass(frozen=True)
class TransactionStopped:
    transaction_id: int
    charge_point_id: str
    connector_id: int
    id_tag: str
    timestamp: datetime
    meter_stop_wh: int
    reason: str | None


@dataclass(frozen=True)
class MeterSample:
    """One meterValue element reduced to what scheduling needs; `None` where the charge point sent nothing.

    `power_w` is the active import power (sum of phases when only per-phase values came), `energy_wh`
    the active import register, `current_a` the highest phase current, `soc_percent` the EV's state of
    charge, `phases` how many phases carry current (when the charge point reports the current per phase).
    """

    timestamp: datetime
    power_w: float | None = None
    energy_wh: float | None = None
    current_a: float | None = None
    soc_percent: float | None = None
    phases: int | None = None


@dataclass(frozen=True)
class MeterValuesReceived:
    """New meter values of a charge point; `samples` (one `MeterSample` per meterValue element) is worked
    out by `summarise` when first read, since most subscribers only look at it for some transactions."""

    charge_point_id: str
    connector_id: int
    transaction_id: int | None
    summarise: Callable[[], tuple[MeterSample, ...]] = field(repr=False, compare=False)

    @functools.cached_property
    def samples(self) -> tuple[MeterSample, ...]:
        return self.summarise()


@dataclass(frozen=True)
class ForecastPosted:
    """A new capacity forecast was committed (not sent for an idempotent replay)."""

    site_id: int
    forecast_pk: int
    starts_at: datetime
    ends_at: datetime


@dataclass(frozen=True)
class OverrideChanged:
    """An override was created, updated or deleted and the change committed."""

    override_id: int
    action: str  # "created" | "updated" | "deleted"
    scope: str
    site_id: int | None
    charge_point_id: str | None
    transaction_id: int | None
    valid_from: datetime
    valid_until: datetime | None


@dataclass(frozen=True)
class ChargePointPlaced:
    """A charge point was put in a site or a group, moved, or taken out of its site (`site_id` None), and
    the change committed: the sites it left and joined share their fallback capacity anew."""

    charge_point_id: str
    site_id: int | None
    group_id: int | None
    previous_site_id: int | None


@dataclass(frozen=True)
class SiteChanged:
    """A site's settings changed and the change committed; `fields` names those whose value changed."""

    site_id: int
    fields: frozenset[str]


Event = (
    ChargePointConnected
    | ChargePointDisconnected
    | ChargePointBooted
    | StatusChanged
    | TransactionStarted
    | TransactionStopped
    | MeterValuesReceived
    | ForecastPosted
    | OverrideChanged
    | ChargePointPlaced
    | SiteChanged
)
