"""OCPP 1.6J central system: WebSocket server, charge point handlers, command sending."""

from ocpp_gateway.commands import OPERATIONS, GatewayCommands
from ocpp_gateway.registry import ConnectionRegistry
from ocpp_gateway.server import OcppServer

__all__ = ["OPERATIONS", "ConnectionRegistry", "GatewayCommands", "OcppServer"]
