"""What planning reads about a site, in one go: a frozen snapshot that the pure plan builder turns into the
optimiser's problem (`app.services.planning.problem`)."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from app.domain.planning import Override, SessionDemand, Site, SiteGroup
from app.domain.repositories.planning import PastSession


@dataclass(frozen=True)
class SiteChargePoint:
    id: str
    connected: bool
    group_id: int | None
    min_current_a: float | None = None


@dataclass(frozen=True)
class SiteConnector:
    charge_point_id: str
    connector_id: int
    phases: int
    nominal_voltage_v: float
    max_current_a: float
    min_current_a: float | None = None


@dataclass(frozen=True)
class ActiveTransaction:
    id: int
    charge_point_id: str
    connector_id: int
    id_tag: str
    start_timestamp: datetime
    meter_start_wh: int


@dataclass(frozen=True)
class SiteSnapshot:
    """A site as planning sees it for the window [start, end).

    `forecasts`: the forecasts covering part of the window (id → (issued_at, forecast_id)), with their rows
    in `forecast_rows` as (forecast id, start, end, limit_kw); `overrides`: those in force at some time of
    the window within the site; `delivered_wh`: energy delivered so far per transaction (its latest energy
    register less its meter start); `past_sessions`: the last completed sessions of the active
    transactions' id tags (demand estimates).
    """

    site: Site
    start: datetime
    end: datetime
    groups: tuple[SiteGroup, ...] = ()
    forecasts: Mapping[int, tuple[datetime, str | None]] = field(default_factory=dict)
    forecast_rows: tuple[tuple[int, datetime, datetime, float], ...] = ()
    overrides: tuple[Override, ...] = ()
    charge_points: tuple[SiteChargePoint, ...] = ()
    connectors: tuple[SiteConnector, ...] = ()
    transactions: tuple[ActiveTransaction, ...] = ()
    demands: Mapping[int, SessionDemand] = field(default_factory=dict)
    past_sessions: tuple[PastSession, ...] = ()
    delivered_wh: Mapping[int, float] = field(default_factory=dict)


@dataclass(frozen=True)
class DefaultProfileBasis:
    """What a charge point's default profile is made from: its site, how many connectors the site's
    charge points have (each counts at least one, so that the first boots of a fleet don't each get the
    whole site), and its own connectors' phases and voltage."""

    site: Site
    connectors: int
    phases: int
    voltage_v: float
    min_current_a: float  # its connectors' (else its own, else the site's)
