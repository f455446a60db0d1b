"""What became of a request sent from a charge point's page, in an operator's words: the command's status
and the `status` the charge point answered (ChangeConfiguration's Accepted, RebootRequired, Rejected,
NotSupported), or why it failed."""

from dataclasses import dataclass

from app.domain.enums import CommandStatus
from app.domain.ocpp import Command

__all__ = ["NOT_CONNECTED", "Outcome", "outcome_of"]

# The charge point's answer → (outcome key, words)
ANSWERS = {
    "Accepted": ("accepted", "accepted"),
    "RebootRequired": ("rebootRequired", "accepted: the charge point must reboot for it to apply"),
    "Rejected": ("rejected", "rejected by the charge point"),
    "NotSupported": ("notSupported", "not supported: the charge point does not know this key"),
}


@dataclass(frozen=True)
class Outcome:
    key: str  # waiting, accepted, rebootRequired, rejected, notSupported, failed, notConnected
    words: str

    @property
    def waiting(self) -> bool:
        return self.key == "waiting"


NOT_CONNECTED = Outcome("notConnected", "not connected: nothing was sent")


def outcome_of(command: Command) -> Outcome:
    if command.status == CommandStatus.pending.value:
        return Outcome("waiting", "waiting for the charge point")
    if command.status in (CommandStatus.timeout.value, CommandStatus.error.value):
        reason = " ".join(filter(None, (command.error_code, command.error_description)))
        return Outcome("failed", f"failed ({command.status}{': ' + reason if reason else ''})")
    answer = (command.response or {}).get("status")
    if isinstance(answer, str) and answer in ANSWERS:
        return Outcome(*ANSWERS[answer])
    return Outcome(command.status, command.status)
