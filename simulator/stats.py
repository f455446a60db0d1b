"""What a simulated charge point counts: messages, errors, profiles, and one record per EV visit."""

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class SessionResult:
    charge_point_id: str
    connector_id: int
    ev_model: str
    id_tag: str
    arrival: datetime
    departure: datetime
    requested_kwh: float
    delivered_kwh: float = 0.0
    transaction_id: int | None = None
    authorized: bool = True
    stop_reason: str | None = None


@dataclass
class ChargePointStats:
    sent: Counter[str] = field(default_factory=Counter)
    call_errors: int = 0
    timeouts: int = 0
    received: Counter[str] = field(default_factory=Counter)
    profiles_received: int = 0
    profiles_accepted: int = 0
    connects: int = 0
    boots_accepted: int = 0
    turned_away: int = 0
    sessions: list[SessionResult] = field(default_factory=list)

    @property
    def messages_sent(self) -> int:
        return sum(self.sent.values())
