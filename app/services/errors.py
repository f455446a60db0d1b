"""What a use case says when it refuses: one set of errors for every service, mapped to HTTP once."""

import re
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = [
    "AlreadyExists",
    "Conflict",
    "Invalid",
    "InvalidReference",
    "NotFound",
    "ServiceError",
    "Unavailable",
    "error_loc",
]


class ServiceError(Exception):
    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFound(ServiceError):
    """The resource (or one it refers to) does not exist, or is out of the caller's reach."""


class Conflict(ServiceError):
    """The change contradicts what is stored: a cycle, a non-empty delete, a key replayed with other data."""


class AlreadyExists(Conflict):
    """The id is taken."""


class Unavailable(ServiceError):
    """Something this process needs to answer does not answer now (Redis, the scheduler processes): the
    request may succeed later."""


class Invalid(ServiceError):
    """The input is well-formed but not acceptable; `errors` lists each offending field or row."""

    def __init__(self, detail: str, errors: Sequence[Mapping[str, Any]] = ()) -> None:
        super().__init__(detail)
        self.errors = list(errors)


class InvalidReference(Invalid):
    """A body field refers to something that does not exist (`field` names it)."""

    def __init__(self, field: str, detail: str) -> None:
        super().__init__(
            f"body.{field}: {detail}", [{"loc": ["body", field], "msg": detail, "type": "invalid_reference"}]
        )
        self.field = field


def error_loc(path: str) -> list[str | int]:
    """`intervals[3].limit_kw` → `["body", "intervals", 3, "limit_kw"]`; `row 5` → `["body", "row", 5]`."""
    parts: list[str | int] = ["body"]
    for token in re.findall(r"[A-Za-z_]+|\d+", path):
        parts.append(int(token) if token.isdigit() else token)
    return parts
