"""A charge point's HTTP Basic password set with `ChangeConfiguration AuthorizationKey`: checked, hashed, and
never kept or shown in plain text.

The OCPP 1.6 Security Whitepaper: the key is at least 16 bytes, "hexadecimal represented (20 bytes maximum,
represented as a string of up to 40 hexadecimal digits)". The value sent is the password the charge point
presents on its next connection (the hex string, as OCPP 2.0.1's BasicAuthPassword and the HTTP Basic header
carry text). The command log stores the request with the value replaced by `REDACTED`; once the charge point
accepts, the stored password hash is replaced (`app.services.ocpp.commands`).
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import anyio

from app.services.passwords import hash_password

AUTHORIZATION_KEY = "AuthorizationKey"
REDACTED = "<redacted>"
MIN_BYTES, MAX_BYTES = 16, 20
_HEX = re.compile(rf"(?:[0-9A-Fa-f]{{2}}){{{MIN_BYTES},{MAX_BYTES}}}")


class InvalidAuthorizationKey(ValueError):
    """The value is not 16–20 bytes in hexadecimal (the message never contains the value)."""


@dataclass(frozen=True)
class SealedRequest:
    """A request as stored (secret values redacted) and the hash of the new password it sets, if any."""

    stored_payload: dict[str, Any]
    password_hash: str | None = None


def is_authorization_key(key: object) -> bool:
    """OCPP configuration keys are compared case-insensitively."""
    return isinstance(key, str) and key.casefold() == AUTHORIZATION_KEY.casefold()


def sets_authorization_key(action: str, payload: Mapping[str, Any]) -> bool:
    return action == "ChangeConfiguration" and is_authorization_key(payload.get("key"))


def check(value: object) -> str:
    """The value when it is 16–20 bytes as hexadecimal digits; else `InvalidAuthorizationKey`."""
    if not isinstance(value, str) or not _HEX.fullmatch(value):
        raise InvalidAuthorizationKey(
            f"{AUTHORIZATION_KEY} must be {MIN_BYTES}-{MAX_BYTES} bytes as hexadecimal digits "
            f"({2 * MIN_BYTES}-{2 * MAX_BYTES} characters 0-9, A-F, an even number)"
        )
    return value


async def seal(action: str, payload: Mapping[str, Any]) -> SealedRequest:
    """What to store of a request about to be sent: a ChangeConfiguration AuthorizationKey is checked
    (`InvalidAuthorizationKey`), its value hashed off the event loop and redacted."""
    if not sets_authorization_key(action, payload):
        return SealedRequest(dict(payload))
    password = check(payload.get("value"))
    password_hash = await anyio.to_thread.run_sync(hash_password, password)
    return SealedRequest(dict(payload) | {"value": REDACTED}, password_hash)


def redact(data: Any) -> Any:
    """`data` with the value of every `{"key": "AuthorizationKey", "value": ...}` object replaced by
    `REDACTED` (ChangeConfiguration requests, GetConfiguration's `configurationKey` entries); a new object
    when something was replaced, `data` itself otherwise."""
    if isinstance(data, list):
        items = [redact(item) for item in data]
        return items if any(new is not old for new, old in zip(items, data, strict=True)) else data
    if not isinstance(data, dict):
        return data
    if is_authorization_key(data.get("key")) and data.get("value") not in (None, REDACTED):
        return data | {"value": REDACTED}
    changed = {name: redact(value) for name, value in data.items()}
    return changed if any(changed[name] is not data[name] for name in data) else data
