"""Profiles a charge point holds: SetChargingProfile / ClearChargingProfile (OCPP 1.6 §5.16, §5.5)."""

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from ocpp.v16.enums import (
    ChargingProfilePurposeType,
    ChargingProfileStatus,
    ChargingRateUnitType,
    ClearChargingProfileStatus,
)

from simulator.composite import (
    ChargingProfile,
    CompositeSchedule,
    Electrical,
    InstalledProfile,
    Limit,
    Transaction,
    composite_schedule,
    limit_at,
    next_change,
)


@dataclass(frozen=True)
class ProfileLimits:
    """What the charge point accepts, as its configuration keys say."""

    max_stack_level: int = 8
    max_periods: int = 24
    max_installed: int = 16
    allowed_units: tuple[ChargingRateUnitType, ...] = (ChargingRateUnitType.amps, ChargingRateUnitType.watts)


TransactionLookup = Callable[[int], Transaction | None]


class ProfileStore:
    """Installed profiles of one charge point. `transactions(connector_id)` says what runs where."""

    def __init__(
        self, electrical: Electrical, transactions: TransactionLookup, limits: ProfileLimits | None = None
    ):
        self.electrical = electrical
        self.limits = limits or ProfileLimits()
        self._transactions = transactions
        self._installed: list[InstalledProfile] = []

    @property
    def installed(self) -> tuple[InstalledProfile, ...]:
        return tuple(self._installed)

    def set(self, connector_id: int, profile: ChargingProfile, now: datetime) -> ChargingProfileStatus:
        """Install `profile` on `connector_id` (0: the whole charge point), replacing as the spec says."""
        if self.reject_reason(connector_id, profile) is not None:
            return ChargingProfileStatus.rejected
        remaining = [
            p
            for p in self._installed
            if p.profile.id != profile.id
            and not (
                p.connector_id == connector_id
                and p.profile.stack_level == profile.stack_level
                and p.profile.purpose == profile.purpose
            )
        ]
        if len(remaining) >= self.limits.max_installed:
            return ChargingProfileStatus.rejected
        if profile.purpose == ChargingProfilePurposeType.tx_profile and profile.transaction_id is None:
            tx = self._transactions(connector_id)
            assert tx is not None
            profile = _with_transaction(profile, tx.transaction_id)
        self._installed = [*remaining, InstalledProfile(connector_id, profile, now)]
        return ChargingProfileStatus.accepted

    def reject_reason(self, connector_id: int, profile: ChargingProfile) -> str | None:
        """Why SetChargingProfile would be Rejected, or None."""
        limits = self.limits
        if not 0 <= connector_id <= self.electrical.connectors:
            return "unknown connector"
        if profile.stack_level > limits.max_stack_level or profile.stack_level < 0:
            return "stack level above ChargeProfileMaxStackLevel"
        if len(profile.schedule.periods) > limits.max_periods or not profile.schedule.periods:
            return "periods above ChargingScheduleMaxPeriods"
        if profile.schedule.unit not in limits.allowed_units:
            return "rate unit not in ChargingScheduleAllowedChargingRateUnit"
        if profile.schedule.periods[0].start_period_s != 0:
            return "first period does not start at 0"
        purpose = profile.purpose
        if purpose == ChargingProfilePurposeType.charge_point_max_profile and connector_id != 0:
            return "ChargePointMaxProfile only on connector 0"
        if purpose == ChargingProfilePurposeType.tx_profile:
            if connector_id == 0:
                return "TxProfile not on connector 0"
            tx = self._transactions(connector_id)
            if tx is None:
                return "no transaction on the connector"
            known = tx.transaction_id is not None  # unknown while its StartTransaction.conf is on the way
            if known and profile.transaction_id is not None and profile.transaction_id != tx.transaction_id:
                return "transactionId does not match the running transaction"
        return None

    def clear(
        self,
        *,
        profile_id: int | None = None,
        connector_id: int | None = None,
        purpose: ChargingProfilePurposeType | None = None,
        stack_level: int | None = None,
    ) -> ClearChargingProfileStatus:
        """Remove by id (other criteria then ignored), else by all criteria given; Unknown if none matched."""

        def matches(p: InstalledProfile) -> bool:
            if profile_id is not None:
                return p.profile.id == profile_id
            return (
                (connector_id is None or p.connector_id == connector_id)
                and (purpose is None or p.profile.purpose == purpose)
                and (stack_level is None or p.profile.stack_level == stack_level)
            )

        kept = [p for p in self._installed if not matches(p)]
        removed = len(self._installed) - len(kept)
        self._installed = kept
        return ClearChargingProfileStatus.accepted if removed else ClearChargingProfileStatus.unknown

    def end_transaction(self, connector_id: int) -> None:
        """A TxProfile lives only as long as its transaction."""
        self._installed = [
            p
            for p in self._installed
            if not (
                p.connector_id == connector_id and p.profile.purpose == ChargingProfilePurposeType.tx_profile
            )
        ]

    def next_change(self, connector_id: int, after: datetime, until: datetime) -> datetime | None:
        """When a limit on this connector (0: the charge point) may change next, within (after, until]."""
        if not self._installed:
            return None
        tx = self._transactions(connector_id) if connector_id else None
        return next_change(self._installed, after, until, tx)

    def limit(self, connector_id: int, at: datetime) -> Limit:
        return limit_at(self._installed, connector_id, at, self._transactions(connector_id), self.electrical)

    def composite(
        self, connector_id: int, start: datetime, duration_s: int, unit: ChargingRateUnitType | None = None
    ) -> CompositeSchedule:
        tx = self._transactions(connector_id) if connector_id else None
        return composite_schedule(self._installed, connector_id, start, duration_s, tx, self.electrical, unit)


def _with_transaction(profile: ChargingProfile, transaction_id: int | None) -> ChargingProfile:
    return replace(profile, transaction_id=transaction_id)
