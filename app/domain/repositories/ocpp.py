"""Repositories of the central system."""

from collections.abc import Collection
from typing import Protocol


class ChargePointRepository(Protocol):
    """Charge points, their connectors, configuration and boot and status history."""

    async def ids_in_sites(self, site_ids: Collection[int]) -> list[str]:
        """The ids of the charge points assigned to any of `site_ids`."""
        ...


class IdTagRepository(Protocol):
    pass


class TransactionRepository(Protocol):
    pass


class MeterValueRepository(Protocol):
    pass


class CommandRepository(Protocol):
    pass


class ReservationRepository(Protocol):
    pass


class DataTransferRepository(Protocol):
    pass


class StatusRepository(Protocol):
    """The counts of the status summary."""
