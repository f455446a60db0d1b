"""The state of one connector: status, the EV plugged in, its transaction and its meter."""

import asyncio
from dataclasses import dataclass, field
from datetime import datetime

from ocpp.v16.enums import ChargePointStatus

from simulator.composite import ChargingProfile
from simulator.dataset import SessionPlan
from simulator.ev import EV
from simulator.stats import SessionResult


@dataclass
class ActiveTransaction:
    local_id: int
    id_tag: str
    start: datetime
    meter_start_wh: int
    server_id: int | None = None
    reservation_id: int | None = None


@dataclass
class Reservation:
    reservation_id: int
    id_tag: str
    expiry: datetime


@dataclass
class RemoteStart:
    id_tag: str
    expiry: datetime
    profile: ChargingProfile | None = None  # the TxProfile to use for the transaction


@dataclass
class Connector:
    id: int
    plans: list[SessionPlan] = field(default_factory=list)
    played: int = 0  # plans begun (visited, turned away or missed) by the connector's loop
    status: ChargePointStatus = ChargePointStatus.available
    operative: bool = True
    unavailable_after_transaction: bool = False
    ev: EV | None = None
    result: SessionResult | None = None
    tx: ActiveTransaction | None = None
    reservation: Reservation | None = None
    remote_start: RemoteStart | None = None
    meter_wh: float = 0.0
    power_w: float = 0.0
    current_a: float = 0.0
    phases_used: int = 0
    next_sample: datetime | None = None
    stop_requested: asyncio.Event = field(default_factory=asyncio.Event)
    stop_reason: str | None = None

    def request_stop(self, reason: str) -> None:
        self.stop_reason = reason
        self.stop_requested.set()

    def idle_status(self) -> ChargePointStatus:
        if not self.operative:
            return ChargePointStatus.unavailable
        if self.reservation is not None:
            return ChargePointStatus.reserved
        if self.remote_start is not None:
            return ChargePointStatus.preparing
        return ChargePointStatus.available
