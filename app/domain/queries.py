"""What the central system's read side asks its repositories for, and the shapes they answer in:
list filters, an id tag with its use, the status summary's counts. `scope` is always the charge points a
caller may see (None: all)."""

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime

from app.domain.access import Scope
from app.domain.clock import as_utc
from app.domain.ocpp import Driver, IdTag


@dataclass(frozen=True)
class ChargePointFilter:
    """`search`: in the id or the description, case-insensitive; `connected` against `connected_ids`."""

    registration_status: str | None = None
    site_id: int | None = None
    search: str | None = None
    connected: bool | None = None
    connected_ids: Collection[str] = ()
    scope: Scope = None


@dataclass(frozen=True)
class IdTagFilter:
    blocked: bool | None = None
    expired: bool | None = None
    in_transaction: bool | None = None
    search: str | None = None  # in the tag or its note, case-insensitive
    driver_id: int | None = None  # the tags of this person


@dataclass(frozen=True)
class IdTagView:
    tag: IdTag
    active_transactions: int

    def expired(self, now: datetime) -> bool:
        expiry = self.tag.expiry_date
        return expiry is not None and as_utc(expiry) <= now


@dataclass(frozen=True)
class DriverView:
    """A driver with the id tags it owns, by tag."""

    driver: Driver
    id_tags: list[str]


@dataclass(frozen=True)
class TransactionFilter:
    """Transactions of a charge point / tag / site (its charge points now), overlapping [since, until),
    active or finished."""

    charge_point_id: str | None = None
    connector_id: int | None = None
    id_tag: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    active: bool | None = None
    scope: Scope = None
    site_id: int | None = None


@dataclass(frozen=True)
class MeterValueFilter:
    """Meter values sampled in [since, until), of a charge point or a site (its charge points now)."""

    charge_point_id: str | None = None
    connector_id: int | None = None
    transaction_id: int | None = None
    measurand: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    scope: Scope = None
    site_id: int | None = None


@dataclass(frozen=True)
class ReservationFilter:
    """`active`: accepted and not expired (at the `now` the list is asked for)."""

    charge_point_id: str | None = None
    id_tag: str | None = None
    status: str | None = None
    active: bool | None = None
    scope: Scope = None


@dataclass(frozen=True)
class CommandFilter:
    """Commands created in [since, until)."""

    charge_point_id: str | None = None
    action: str | None = None
    status: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    scope: Scope = None


@dataclass(frozen=True)
class StatusSummary:
    """What SteVe's home page counts; heartbeats by UTC day: today, yesterday, earlier, never."""

    charge_points: int
    connected_charge_points: int
    pending_charge_points: int
    id_tags: int
    active_transactions: int
    active_reservations: int
    connectors_by_status: dict[str, int]
    heartbeats: dict[str, int] = field(default_factory=dict)
