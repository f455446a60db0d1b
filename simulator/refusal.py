"""Why a charge point could not connect, and what to do about it, from what the handshake ended with.

The central system answers a refused WebSocket upgrade with an HTTP status; smartcharge's OCPP server
answers 401 for an id it does not admit — unknown, or a wrong or missing password, alike so that ids
cannot be enumerated —, 404 for a path that is not `/ocpp/{id}`, 400 without subprotocol `ocpp1.6`, and 409,
429, 403. Other central systems use the same codes, some answer 404 for an unknown id.
"""

from dataclasses import dataclass

from websockets.exceptions import InvalidHandshake, InvalidStatus, InvalidURI

REGISTER = "register it: POST /api/v1/charge-points or the console's Charge points page"
PASSWORD = "set --password to the charge point's password"


@dataclass(frozen=True)
class Refusal:
    """A failed connection attempt: HTTP status (None: no HTTP answer), what it means, what to do."""

    status: int | None
    reason: str
    advice: str

    def __str__(self) -> str:
        code = f"HTTP {self.status}: " if self.status is not None else ""
        return f"{code}{self.reason} — {self.advice}"


def _from_status(status: int, url: str, cp_id: str, retry_after: str | None) -> Refusal:
    if status == 401:
        return Refusal(
            status,
            f"{cp_id} is not admitted: it is not registered there, or its password is wrong or missing",
            f"{REGISTER}; {PASSWORD} (if it has one)",
        )
    if status == 404:
        return Refusal(
            status,
            f"no OCPP endpoint at {url} (some central systems also answer 404 for an unknown id)",
            "check --url: smartcharge's is ws://HOST:9000/ocpp (the id is appended; letters, digits and "
            f". _ : @ + * = - only); or {REGISTER}",
        )
    if status == 400:
        return Refusal(
            status,
            "the handshake was refused (smartcharge answers 400 when subprotocol ocpp1.6 is not offered)",
            "check that --url is an OCPP 1.6J endpoint",
        )
    if status == 403:
        return Refusal(
            status,
            f"refused: the client certificate is not for {cp_id}",
            "connect with its own certificate",
        )
    if status == 409:
        return Refusal(
            status,
            f"{cp_id} is connected already, and without a password it cannot replace its own connection",
            f"stop the other connection, or give {cp_id} a password and {PASSWORD}",
        )
    if status == 429:
        wait = f"{retry_after} s" if retry_after else "a while"
        return Refusal(status, "too many failed attempts", f"fix the id or password, then retry in {wait}")
    return Refusal(status, f"the central system refused the connection to {url}", "see its log")


def explain(error: BaseException, url: str, cp_id: str) -> Refusal:
    """What a failed attempt to open `url` (the charge point's own URL) means for the user."""
    if isinstance(error, InvalidStatus):
        response = error.response
        return _from_status(response.status_code, url, cp_id, response.headers.get("Retry-After"))
    if isinstance(error, InvalidURI):
        return Refusal(None, f"{url} is not a WebSocket URL", "give --url as ws://HOST:PORT/ocpp")
    if isinstance(error, InvalidHandshake):
        return Refusal(None, f"the WebSocket handshake with {url} failed ({error})", "check --url")
    if isinstance(error, TimeoutError):
        return Refusal(None, f"no answer from {url} in time", "check --url and that the service is up")
    if isinstance(error, OSError):
        return Refusal(
            None,
            f"not reachable: {url} ({error.strerror or error})",
            "is the service running (`make run` or `smartcharge serve`)? check --url",
        )
    return Refusal(None, f"the connection to {url} failed ({error!r})", "check --url")


def wrong_subprotocol(chosen: str | None) -> Refusal:
    """Connected, but the central system did not agree on `ocpp1.6` (it chose `chosen`)."""
    return Refusal(
        101,
        f"the central system did not agree on subprotocol ocpp1.6 (it chose {chosen or 'none'})",
        "point --url at an OCPP 1.6J endpoint",
    )


def not_booted(status: str, cp_id: str) -> Refusal:
    """Connected, but BootNotification was answered Pending or Rejected."""
    return Refusal(
        None,
        f"BootNotification answered {status}",
        f"accept {cp_id}: the console's charge-point page, or PATCH /api/v1/charge-points/{cp_id} "
        '{"registration_status": "Accepted"}',
    )
