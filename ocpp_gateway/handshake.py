"""The WebSocket upgrade request: path and id, subprotocol, HTTP Basic credentials."""

import base64
import binascii
import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from websockets.datastructures import Headers
from websockets.exceptions import InvalidHeader
from websockets.headers import parse_subprotocol

SUBPROTOCOL = "ocpp1.6"
MAX_ID_LENGTH = 48  # ChargePoint.id
_PATH = re.compile(r"/ocpp/([^/]+)/?")
_ID = re.compile(r"[A-Za-z0-9._:@+*=\-]+")


@dataclass(frozen=True)
class BasicCredentials:
    username: str
    password: str


def charge_point_id(path: str) -> str | None:
    """The URL-decoded id from `/ocpp/{chargePointId}`; None when the path or the id is not acceptable.

    Ids are 1–48 characters of letters, digits and `. _ : @ + * = -`.
    """
    match = _PATH.fullmatch(urlsplit(path).path)
    if match is None:
        return None
    candidate = unquote(match.group(1), errors="strict") if "%" in match.group(1) else match.group(1)
    if len(candidate) > MAX_ID_LENGTH or not _ID.fullmatch(candidate):
        return None
    return candidate


def offers_subprotocol(headers: Headers) -> bool:
    try:
        offered = [p for value in headers.get_all("Sec-WebSocket-Protocol") for p in parse_subprotocol(value)]
    except InvalidHeader:
        return False
    return SUBPROTOCOL in offered


def basic_credentials(headers: Headers) -> BasicCredentials | None:
    value = headers.get("Authorization")
    if value is None:
        return None
    scheme, _, encoded = value.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    username, separator, password = decoded.partition(":")
    if not separator:
        return None
    return BasicCredentials(username, password)
