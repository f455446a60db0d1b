"""Repositories of the central system. Lists come newest first unless a method says otherwise."""

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Protocol

from app.domain.access import Scope
from app.domain.metering import Row
from app.domain.ocpp import (
    BootNotification,
    ChargePoint,
    ChargePointConfiguration,
    Command,
    ConfigurationEntry,
    Connector,
    DataTransfer,
    Driver,
    IdTag,
    MeterValue,
    Reservation,
    StatusNotification,
    Transaction,
)
from app.domain.paging import Found, Window
from app.domain.queries import (
    ChargePointFilter,
    CommandFilter,
    DriverView,
    IdTagFilter,
    IdTagView,
    MeterValueFilter,
    ReservationFilter,
    StatusSummary,
    TransactionFilter,
)


class ChargePointRepository(Protocol):
    """Charge points, their connectors, configuration and boot and status history."""

    async def ids_in_sites(self, site_ids: Collection[int]) -> list[str]:
        """The ids of the charge points assigned to any of `site_ids`."""
        ...

    async def get(self, charge_point_id: str) -> ChargePoint | None: ...

    async def add(self, charge_point: ChargePoint) -> bool:
        """Store a new charge point; False when its id was taken meanwhile."""
        ...

    async def add_if_absent(self, charge_point_id: str, registration_status: str, now: datetime) -> None:
        """Create the charge point unless it exists; safe when many first connects race."""
        ...

    async def delete(self, charge_point: ChargePoint) -> str | None:
        """Remove it and what it reported or was sent; None when done, else why the database refused
        (something still refers to it)."""
        ...

    async def mark_all_disconnected(self) -> None: ...

    async def disconnect_unheld(self, charge_point_ids: Collection[str], now: datetime) -> list[str]:
        """Mark disconnected those of `charge_point_ids` that no live gateway holds (scale-out: a lost
        gateway's, unless they connected to another meanwhile); returns them."""
        ...

    async def record_diagnostics_status(self, charge_point_id: str, status: str, now: datetime) -> None: ...

    async def record_firmware_status(self, charge_point_id: str, status: str, now: datetime) -> None: ...

    async def set_local_list_version(self, charge_point_id: str, version: int) -> None: ...

    async def set_configuration(
        self, charge_point_id: str, entries: Sequence[ConfigurationEntry], now: datetime
    ) -> None:
        """Store configuration keys' latest values, all in one go (a key's `readonly` is kept as stored
        when the entry's is None)."""
        ...

    async def connector(self, charge_point_id: str, connector_id: int) -> Connector | None: ...

    async def save_connector(self, connector: Connector) -> bool:
        """Store a new or changed connector; False when a new one collides with one stored meanwhile."""
        ...

    async def connectors_of(self, charge_point_ids: Sequence[str]) -> dict[str, list[Connector]]:
        """Each charge point's connectors by number (an empty list for one without)."""
        ...

    async def connectors(self, charge_point_id: str, window: Window) -> Found[Connector]:
        """By number."""
        ...

    async def configuration(self, charge_point_id: str, window: Window) -> Found[ChargePointConfiguration]:
        """By key."""
        ...

    async def status_history(
        self,
        charge_point_id: str,
        window: Window,
        *,
        connector_id: int | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> Found[StatusNotification]:
        """By the time the charge point reported (the time received when it gave none), in [since, until)."""
        ...

    async def boot_notifications(self, charge_point_id: str, window: Window) -> Found[BootNotification]: ...

    async def list(self, window: Window, filters: ChargePointFilter) -> Found[ChargePoint]:
        """By id."""
        ...


class IdTagRepository(Protocol):
    async def get(self, id_tag: str) -> IdTag | None: ...

    async def add(self, tag: IdTag) -> bool:
        """Store a new id tag; False when it was taken meanwhile."""
        ...

    async def delete(self, tag: IdTag) -> None: ...

    async def count_children(self, id_tag: str) -> int:
        """How many tags have `id_tag` as their parent."""
        ...

    async def list(self, window: Window, filters: IdTagFilter, *, now: datetime) -> Found[IdTagView]:
        """By tag, each with its number of active transactions; `expired` judged at `now`."""
        ...

    async def of_driver(self, driver_id: int) -> Sequence[IdTag]:
        """The tags a driver owns, by tag."""
        ...


class DriverRepository(Protocol):
    """The people who own id tags."""

    async def get(self, driver_id: int) -> Driver | None: ...

    async def add(self, driver: Driver) -> None:
        """Store a new driver (it gets its id)."""
        ...

    async def delete(self, driver: Driver) -> None: ...

    async def list(self, window: Window, *, search: str | None = None) -> Found[DriverView]:
        """By name, each with its tags; `search` in the name, e-mail, phone, note or a tag (any case)."""
        ...


class TransactionRepository(Protocol):
    async def get(self, transaction_id: int) -> Transaction | None: ...

    async def find_start(
        self, charge_point_id: str, connector_id: int, id_tag: str, timestamp: datetime, meter_start_wh: int
    ) -> Transaction | None:
        """The transaction started with exactly these values, if any."""
        ...

    async def add_start(self, transaction: Transaction) -> int | None:
        """Insert a started transaction unless one with the same start (charge point, connector, tag,
        timestamp, meterStart) exists; the new id, or None."""
        ...

    async def stop(
        self,
        transaction_id: int,
        *,
        timestamp: datetime,
        meter_stop_wh: int,
        reason: str,
        id_tag: str | None,
        now: datetime,
    ) -> bool:
        """Close the transaction unless it is closed already; whether this call closed it."""
        ...

    async def count_active(self, id_tag: str, *, exclude_transaction_id: int | None = None) -> int: ...

    async def count_of_charge_point(self, charge_point_id: str) -> int: ...

    async def after(self, filters: TransactionFilter, transaction_id: int, limit: int) -> list[Transaction]:
        """Up to `limit` matching transactions with a larger id than `transaction_id`, by id."""
        ...

    async def list(self, window: Window, filters: TransactionFilter) -> Found[Transaction]: ...


class MeterValueRepository(Protocol):
    async def add_new(self, rows: Sequence[Row]) -> set[str]:
        """Insert the rows (`app.domain.metering.COLUMNS`, dedup keys all different) whose dedup key is not
        stored yet; the keys inserted."""
        ...

    async def latest_register_wh(self, transaction_ids: Collection[int]) -> dict[int, float]:
        """Per transaction, its latest Energy.Active.Import.Register in Wh over all phases (phase null,
        normalised to Wh): the largest value at the latest timestamp. Transactions without one are left out.
        """
        ...

    async def of_transaction(self, transaction_id: int) -> list[MeterValue]:
        """Oldest first."""
        ...

    async def after(self, filters: MeterValueFilter, meter_value_id: int, limit: int) -> list[MeterValue]:
        """Up to `limit` matching values with a larger id than `meter_value_id`, by id."""
        ...

    async def list(self, window: Window, filters: MeterValueFilter) -> Found[MeterValue]:
        """Oldest first: a meter series reads forward in time."""
        ...


class CommandRepository(Protocol):
    def add(self, command: Command) -> None: ...

    async def get(self, command_id: int) -> Command | None: ...

    async def fail_pending(self, now: datetime, charge_point_ids: Collection[str] | None = None) -> int:
        """Mark pending commands as an error (`Interrupted`: their gateway stopped before an answer came),
        every one or those of `charge_point_ids`; how many."""
        ...

    async def list(self, window: Window, filters: CommandFilter) -> Found[Command]: ...


class ReservationRepository(Protocol):
    async def get(self, reservation_id: int) -> Reservation | None: ...

    async def add(self, reservation: Reservation) -> None:
        """Store a new reservation (it has its id when this returns); an id the caller chose keeps the
        database's id sequence ahead of it."""
        ...

    async def expire(self, now: datetime) -> int:
        """Mark requested and accepted reservations past their expiry as expired; how many."""
        ...

    async def list(self, window: Window, filters: ReservationFilter, *, now: datetime) -> Found[Reservation]:
        """Newest first by creation."""
        ...


class DataTransferRepository(Protocol):
    def add(self, transfer: DataTransfer) -> None: ...


class StatusRepository(Protocol):
    """The counts of the status summary."""

    async def summary(self, *, now: datetime, connected_ids: Collection[str], scope: Scope) -> StatusSummary:
        """Heartbeat days are UTC days ending at `now`'s."""
        ...
