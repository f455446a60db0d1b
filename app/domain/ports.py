"""Ports: what the services need from the outside world, as protocols."""

from collections.abc import Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from app.domain.enums import CommandStatus


class Clock(Protocol):
    """The time the service runs on: real, or scaled for an accelerated simulation."""

    def now(self) -> datetime: ...

    async def sleep(self, seconds: float) -> None:
        """Wait `seconds` of this clock's time."""
        ...

    def hold(self) -> AbstractContextManager[None]:
        """Stop this clock's time while the service works, where it is a simulation's (else a no-op)."""
        ...


@dataclass(frozen=True)
class CommandOutcome:
    """What became of a command: its status and the charge point's answer (or the error)."""

    status: CommandStatus
    response: dict[str, Any] | None = None
    error_code: str | None = None
    error_description: str | None = None


class ChargePointCommands(Protocol):
    """Sends central-system operations to connected charge points; implemented by `ocpp_gateway`."""

    def is_connected(self, charge_point_id: str) -> bool: ...

    def connected_ids(self) -> set[str]: ...

    async def send(
        self,
        charge_point_id: str,
        action: str,
        payload: Mapping[str, Any],
        *,
        author: str | None = None,
        wait: bool = False,
    ) -> int:
        """Validate, record and send one operation; return the command id.

        With `wait=False` the CALL runs in the background and the command row is updated when the
        charge point answers (or on timeout); with `wait=True` this returns after the outcome is stored.
        Raises `CommandRefused` (unknown action, invalid payload, charge point not connected).
        """
        ...

    async def call(
        self, charge_point_id: str, action: str, payload: Mapping[str, Any], *, author: str | None = None
    ) -> tuple[int, CommandOutcome]:
        """`send(..., wait=True)` that also returns the outcome it stored (nothing is read back)."""
        ...


class CommandRefused(Exception):
    """A command that was not sent: `reason` is `invalid`, `unknown_action`, `not_connected`, `conflict` (a
    ReserveNow's reservationId names a reservation it may not replace) or `id_tag` (a tag that may not
    charge: unknown, blocked, expired)."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class TxSchedule:
    """A transaction's planned power per interval from `start`, to be sent as its `TxProfile`."""

    charge_point_id: str
    connector_id: int
    transaction_id: int
    start: datetime
    interval_min: int
    power_kw: tuple[float, ...]
    phases: int
    voltage_v: float
    min_current_a: float = 0.0  # per phase: every limit is 0 or at least this
    raise_to_min: bool = False  # planned below its minimum (at what it draws): limits raised to it


@dataclass(frozen=True)
class DispatchResult:
    """What became of a profile: accepted, rejected, timeout, error or not_sent (with `reason`)."""

    status: str
    profile: dict[str, Any] | None = None
    command_id: int | None = None
    reason: str | None = None
    verified: bool | None = None
    verify_detail: str | None = None
    limits_kw: tuple[float, ...] | None = None  # per interval of the schedule, the limit sent, in kW


class ProfileSender(Protocol):
    """Turns schedules into charging profiles and sends them; implemented by `ocpp_gateway.dispatch`."""

    def is_connected(self, charge_point_id: str) -> bool: ...

    async def send_tx_profile(self, schedule: TxSchedule) -> DispatchResult: ...

    async def verify_tx_profile(self, schedule: TxSchedule, result: DispatchResult) -> DispatchResult:
        """Read an accepted profile back: `result` with `verified` and `verify_detail` where possible."""
        ...

    async def send_default_profile(
        self, charge_point_id: str, limit_kw: float, *, phases: int, voltage_v: float, min_current_a: float
    ) -> DispatchResult:
        """The charge point's TxDefaultProfile at connector 0: `limit_kw` for each connector (0, or at least
        the minimum current)."""
        ...

    async def request_meter_values(self, charge_point_id: str, connector_id: int) -> bool:
        """Ask for a MeterValues now (TriggerMessage): what an EV draws under new limits, known in seconds
        rather than a sample interval later. False when the charge point would not."""
        ...


class Replanner(Protocol):
    """Plans a site now and sends the profiles that change (the scheduler, or a route to it)."""

    async def replan_now(self, site_id: int, trigger: str) -> int:
        """The new revision's id; raises `NotFound` for an unknown site, `Unavailable` when nothing plans."""
        ...


class SiteShard(Protocol):
    """The sites one scheduler plans where several share them (a scale-out layout's site leases)."""

    name: str  # the scheduler process, as its revisions record it

    def owns(self, site_id: int) -> bool: ...


class Metrics(Protocol):
    """What the service counts for its operators (Prometheus: `app.metrics`). Calls are cheap and never
    raise; `NO_METRICS` counts nothing."""

    def ocpp_message(self, direction: str, action: str, kind: str) -> None:
        """One OCPP-J frame `in` or `out`: a `call` of `action`, or its `result` or `error`."""
        ...

    def call_handled(self, action: str, seconds: float) -> None:
        """A charge point's CALL of `action` answered `seconds` after its turn came."""
        ...

    def call_answered(self, action: str, seconds: float) -> None:
        """Our CALL of `action` answered by the charge point `seconds` after it was sent."""
        ...

    def command_finished(self, action: str, status: str) -> None: ...

    def replanned(self, status: str, solve_s: float) -> None: ...

    def profile_dispatched(self, purpose: str, status: str) -> None:
        """A charging profile of `purpose` (TxProfile, TxDefaultProfile) sent, with what became of it."""
        ...


class _NoMetrics:
    def ocpp_message(self, direction: str, action: str, kind: str) -> None:
        pass

    def call_handled(self, action: str, seconds: float) -> None:
        pass

    def call_answered(self, action: str, seconds: float) -> None:
        pass

    def profile_dispatched(self, purpose: str, status: str) -> None:
        pass

    def command_finished(self, action: str, status: str) -> None:
        pass

    def replanned(self, status: str, solve_s: float) -> None:
        pass


NO_METRICS: Metrics = _NoMetrics()
