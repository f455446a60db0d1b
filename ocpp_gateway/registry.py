"""Who is connected to this gateway process: one live endpoint per charge point id."""

from ocpp_gateway.rpc import OcppJEndpoint


class ConnectionRegistry:
    def __init__(self) -> None:
        self._endpoints: dict[str, OcppJEndpoint] = {}

    def get(self, charge_point_id: str) -> OcppJEndpoint | None:
        return self._endpoints.get(charge_point_id)

    def endpoints(self) -> list[OcppJEndpoint]:
        return list(self._endpoints.values())

    def ids(self) -> set[str]:
        return set(self._endpoints)

    def __contains__(self, charge_point_id: object) -> bool:
        return charge_point_id in self._endpoints

    def __len__(self) -> int:
        return len(self._endpoints)

    def register(self, endpoint: OcppJEndpoint) -> OcppJEndpoint | None:
        """Make `endpoint` the live one for its id; returns the one it replaces, if any."""
        previous = self._endpoints.get(endpoint.id)
        self._endpoints[endpoint.id] = endpoint
        return previous if previous is not endpoint else None

    def unregister(self, endpoint: OcppJEndpoint) -> bool:
        """Forget `endpoint` if it is still the live one (not when a newer connection replaced it)."""
        if self._endpoints.get(endpoint.id) is endpoint:
            del self._endpoints[endpoint.id]
            return True
        return False
