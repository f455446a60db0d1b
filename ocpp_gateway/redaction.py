"""Log records never carry an AuthorizationKey's value: a filter on the loggers that see OCPP frames.

The gateway's own frame logs (`ocpp_gateway.rpc`), the `ocpp` package's and the `websockets` server's frame
logs (at DEBUG) pass through `RedactingFilter`, which replaces the `"value"` of every JSON object that names
the AuthorizationKey (a ChangeConfiguration request, a GetConfiguration `configurationKey` entry).
"""

import logging
import re

from app.services.ocpp.authorization_key import REDACTED

LOGGERS = ("ocpp_gateway", "ocpp_gateway.rpc", "ocpp_gateway.commands", "ocpp", "websockets.server")
_MARK = "authorizationkey"
_OBJECT = re.compile(r"\{[^{}]*\}")
_VALUE = re.compile(r'(\\?"value\\?"\s*:\s*)\\?"(?:[^"\\]|\\.)*?\\?"')


def redact_text(text: str) -> str:
    """`text` with the value of each flat JSON object naming the AuthorizationKey replaced."""
    if _MARK not in text.casefold():
        return text

    def one(match: re.Match[str]) -> str:
        found = match.group(0)
        return _VALUE.sub(rf'\1"{REDACTED}"', found) if _MARK in found.casefold() else found

    return _OBJECT.sub(one, text)


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_text(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


_FILTER = RedactingFilter()


def install() -> None:
    """Add the filter to the loggers of `LOGGERS` (once)."""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
