"""Hot-path writes batched by the group commit: one statement for many callers' rows. Each call returns
once its batch has committed."""

from datetime import datetime
from typing import Protocol

from app.domain.enums import RegistrationStatus
from app.domain.messages import Boot, Completion, Credentials, NewCommand, StatusReport
from app.domain.metering import MeterValuesMessage
from app.domain.planning import ProfileDispatch


class BatchedWrites(Protocol):
    async def record_dispatch(self, dispatch: ProfileDispatch) -> None:
        """Store what became of a profile sent (or not) to a charge point."""
        ...

    async def credentials(self, charge_point_id: str) -> Credentials | None:
        """What the handshake checks; None for an unknown charge point."""
        ...

    async def configuration(self, charge_point_id: str) -> dict[str, str | None]:
        """The charge point's configuration keys as last read or set."""
        ...

    async def set_connected(self, charge_point_id: str, connected: bool, at: datetime) -> None:
        """Note a connect (connected since `at`) or a disconnect; seen at `at` either way."""
        ...

    async def touch(self, charge_point_id: str, at: datetime) -> None:
        """Note when the charge point was last seen."""
        ...

    async def record_heartbeat(self, charge_point_id: str, at: datetime) -> None: ...

    async def record_boot(self, boot: Boot) -> RegistrationStatus:
        """Store the boot's fields on a known charge point and in the boot history; the operator's decision
        to answer (Rejected for an unknown charge point, whose boot is not stored)."""
        ...

    async def record_status(self, charge_point_id: str, report: StatusReport, now: datetime) -> bool:
        """Append the report to the status history; update the live connector unless it holds a newer
        status (a timestamp ahead of `now` orders as `now`). Whether the live state changed."""
        ...

    async def store_meter_values(self, message: MeterValuesMessage) -> tuple[int | None, int]:
        """Store the message's samples not stored before; its transaction id as resolved (None unless it is
        one of the charge point's) and how many samples were new."""
        ...

    async def create_command(self, command: NewCommand) -> int:
        """Record a pending command (not ReserveNow, which allocates a reservation); its id."""
        ...

    async def command_sent(self, command_id: int, sent_at: datetime) -> None:
        """Store when a command's CALL went out (before its answer comes)."""
        ...

    async def complete_command(self, completion: Completion) -> None:
        """Store the outcome of a command whose answer has no side effects."""
        ...
