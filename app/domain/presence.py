"""The presence port: which gateway process holds which charge point's connection (scale-out roles only).

A gateway claims a charge point when its connection is admitted and releases it when that connection ends;
its claims hold while it renews its lease. The embedded default (role `all`) has no presence: the one
gateway holds every connection.
"""

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Holder:
    """The gateway process holding a charge point, and which of its connections (the WebSocket's id)."""

    gateway_id: str
    connection_id: str


class Presence(Protocol):
    async def claim(self, charge_point_id: str, connection_id: str) -> None:
        """Record this gateway as the holder; a live holder elsewhere is told to close its connection."""
        ...

    async def release(self, charge_point_id: str, connection_id: str) -> bool:
        """Forget the claim if this connection still holds it; False when another one took it over."""
        ...
