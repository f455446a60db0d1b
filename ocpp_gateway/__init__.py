"""OCPP 1.6J central system: WebSocket server, charge point handlers, command sending.

Decisions where OCPP 1.6 leaves room (each is documented again where it is made):

* Ids: `/ocpp/{id}`, URL-decoded, 1–48 characters of letters, digits and `. _ : @ + * = -`; others → 404.
* Subprotocol `ocpp1.6` must be offered (400 otherwise). Unknown charge points: 401 like a wrong password
  (`reject`), or created as Pending / Accepted. HTTP Basic (username = id) is required when the charge
  point has a password, or for everyone when passwords are required (by default, unless listening on
  loopback only). Failed attempts are limited (429); see `admission.py` and docs/security.md.
* A CALL above `ocpp_max_message_bytes` is answered GenericError and not handled; the transport accepts
  frames up to 4× that, so only larger ones close the socket (1009). Replies to our CALLs may be larger.
* A CALLERROR whose UniqueId cannot be read uses "-1" (OCPP 2.0.1's rule; 1.6 is silent).
* Inbound DataTransfer is stored and answered UnknownVendorId unless the vendor is configured
  (`OcppServer(data_transfer_vendors=…)`), then Accepted.
"""

from ocpp_gateway.commands import OPERATIONS, SECURITY_OPERATIONS, GatewayCommands
from ocpp_gateway.registry import ConnectionRegistry
from ocpp_gateway.server import OcppServer

__all__ = ["OPERATIONS", "SECURITY_OPERATIONS", "ConnectionRegistry", "GatewayCommands", "OcppServer"]
