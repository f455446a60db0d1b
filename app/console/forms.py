"""Forms that post to the API's services: the values a form sends checked by the API's own request schema
(`app.api.schemas`, so the console refuses what the API refuses, with the same words), and a refusal, of the
schema or of the service, turned into a message per field."""

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, ValidationError

from app.domain.persistence import Store, UnitOfWork
from app.services.errors import ServiceError

__all__ = ["FieldErrors", "Refused", "field_errors", "optional", "parsed", "submitted"]

M = TypeVar("M", bound=BaseModel)
FieldErrors = dict[str, str]  # field name (or "" for the form as a whole) → message


class Refused(Exception):
    def __init__(self, errors: FieldErrors) -> None:
        super().__init__(errors)
        self.errors = errors


def optional(value: str | None) -> str | None:
    """An empty text field is "not given"."""
    return value.strip() or None if value is not None else None


def _field(loc: Any) -> str:
    names = [str(part) for part in loc if part != "body"]
    return names[0] if names else ""


def parsed(model: type[M], values: Mapping[str, Any]) -> M:
    """`values` as the API's request schema `model`; raises `Refused` naming each bad field."""
    try:
        return model.model_validate(dict(values))
    except ValidationError as exc:
        errors: FieldErrors = {}
        for error in exc.errors():
            errors.setdefault(_field(error["loc"]), error["msg"])
        raise Refused(errors) from exc


def field_errors(exc: ServiceError) -> FieldErrors:
    """A service's refusal: on the fields it names (`errors`' locations, or a detail `field: message`),
    else on the form as a whole."""
    errors: FieldErrors = {}
    for error in getattr(exc, "errors", ()):
        errors.setdefault(_field(error.get("loc", ())), str(error.get("msg", exc.detail)))
    if not errors:
        field, _, message = exc.detail.partition(": ")
        if message and field.isidentifier():
            errors[field] = message
        else:
            errors[""] = exc.detail
    return errors


async def submitted(
    store: Store,
    write: Callable[[UnitOfWork], Awaitable[str]],
    again: Callable[[FieldErrors], Awaitable[Response]],
) -> Response:
    """A form's write: `write` checks the values (`parsed`) and calls a service in one unit of work, then
    names the page to go to (303, so a reload does not post again); a refusal, the schema's or the
    service's, stores nothing and shows the form again through `again` with the errors per field."""
    try:
        async with store.unit_of_work() as uow:
            target = await write(uow)
    except Refused as refused:
        return await again(refused.errors)
    except ServiceError as exc:
        return await again(field_errors(exc))
    return RedirectResponse(target, status_code=303)
