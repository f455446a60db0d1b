"""The service's refusals as exceptions, carrying its RFC 9457 problem details."""

import contextlib
from typing import Any

import httpx

__all__ = ["ApiError", "Conflict", "Forbidden", "Invalid", "NotFound", "Unauthorized"]


class ApiError(Exception):
    """An HTTP error answer: `status`, `title`, `detail`, and `errors` (each naming the field, for 422)."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: Any = None,
        *,
        errors: list[dict[str, Any]] | None = None,
        type: str = "about:blank",
        instance: str | None = None,
        method: str = "",
        url: str = "",
    ) -> None:
        self.status = status
        self.title = title
        self.detail = detail
        self.errors = errors or []
        self.type = type
        self.instance = instance
        self.method = method
        self.url = url
        super().__init__(str(self))

    def __str__(self) -> str:
        text = f"{self.status} {self.title}"
        if self.detail:
            text += f": {self.detail}"
        fields = [f"{'.'.join(str(p) for p in e.get('loc', []))}: {e.get('msg', '')}" for e in self.errors]
        if fields and not (len(fields) == 1 and str(self.detail).endswith(self.errors[0].get("msg", ""))):
            text += " (" + "; ".join(fields) + ")"
        return f"{text} [{self.method} {self.url}]" if self.method else text


class Unauthorized(ApiError):
    """401: no API key, or an unknown or revoked one."""


class Forbidden(ApiError):
    """403: the key's role may not do this."""


class NotFound(ApiError):
    """404: no such resource, or one the key may not see."""


class Conflict(ApiError):
    """409: it conflicts with what is stored (a forecast id reused for other content, ...)."""


class Invalid(ApiError):
    """422: invalid input; `errors` names each offending field or row."""


_BY_STATUS: dict[int, type[ApiError]] = {
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    422: Invalid,
}


def raise_for_problem(response: httpx.Response) -> None:
    """Raise the `ApiError` an error answer stands for; do nothing for a success."""
    if response.is_success:
        return
    body: Any = None
    with contextlib.suppress(ValueError):
        body = response.json()
    if not isinstance(body, dict):
        body = {"title": response.reason_phrase, "detail": response.text[:500] or None}
    errors = body.get("errors")
    raise _BY_STATUS.get(response.status_code, ApiError)(
        response.status_code,
        str(body.get("title") or response.reason_phrase),
        body.get("detail"),
        errors=errors if isinstance(errors, list) else None,
        type=str(body.get("type", "about:blank")),
        instance=body.get("instance"),
        method=response.request.method,
        url=str(response.request.url),
    )
