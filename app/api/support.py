"""What the resource routers share: the list window, time ranges, the caller's scope, service errors as
problems, CSV responses."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Query
from fastapi.routing import APIRoute

from app.api.deps import CurrentPrincipal, ReadingDep, UowDep, check_site_access
from app.api.errors import Problem
from app.api.schemas import DEFAULT_LIMIT, MAX_LIMIT, MAX_OFFSET, Page, RowId, as_utc
from app.domain.access import Scope
from app.domain.paging import Found, Window
from app.services.access import charge_point_scope
from app.services.errors import Conflict, Invalid, NotFound, error_loc
from app.services.planning import sites

T = TypeVar("T")


def operation_id(route: APIRoute) -> str:
    """OpenAPI operationId: the route function's name (`list_transactions`), for generated clients."""
    return route.name


def paged(items: list[T], found: Found[Any], window: Window) -> Page[T]:
    """A page of `items` (the presented form of `found.items`)."""
    return Page(items=items, total=found.total, limit=window.limit, offset=window.offset)


def window(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="page size")] = DEFAULT_LIMIT,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description="items to skip")] = 0,
) -> Window:
    return Window(limit=limit, offset=offset)


WindowDep = Annotated[Window, Depends(window)]

Since = Annotated[
    datetime | None,
    Query(alias="from", description="from this time, inclusive (ISO 8601; without offset: UTC)"),
]
Until = Annotated[datetime | None, Query(alias="to", description="up to this time, exclusive")]


def utc(value: datetime | None) -> datetime | None:
    return None if value is None else as_utc(value)


def time_range(since: datetime | None, until: datetime | None) -> tuple[datetime | None, datetime | None]:
    since, until = utc(since), utc(until)
    if since is not None and until is not None and until <= since:
        raise Problem(
            422,
            "query.to: must be after from",
            errors=[{"loc": ["query", "to"], "msg": "must be after from", "type": "value_error"}],
        )
    return since, until


async def scope(uow: UowDep, principal: CurrentPrincipal) -> Scope:
    return await charge_point_scope(uow, principal)


async def reading_scope(uow: ReadingDep, principal: CurrentPrincipal) -> Scope:
    return await charge_point_scope(uow, principal)


ScopeDep = Annotated[Scope, Depends(scope)]
# The same, read in the request's `ReadingDep` (for handlers that take that one).
ReadingScopeDep = Annotated[Scope, Depends(reading_scope)]


async def site_filter(
    uow: UowDep,
    principal: CurrentPrincipal,
    site_id: Annotated[RowId | None, Query(description="only the charge points in this site now")] = None,
) -> int | None:
    """The `site_id` filter of a list: a site the caller reaches (else 404)."""
    if site_id is not None:
        check_site_access(principal, site_id)
        with service_problems():
            await sites.get_site(uow, site_id)
    return site_id


SiteFilterDep = Annotated[int | None, Depends(site_filter)]


@contextmanager
def service_problems() -> Iterator[None]:
    """A service's refusal as a problem: 404 not found, 409 conflict (or taken), 422 invalid (each
    offending field or row named in `errors`)."""
    try:
        yield
    except NotFound as exc:
        raise Problem(404, exc.detail) from exc
    except Conflict as exc:
        raise Problem(409, exc.detail) from exc
    except Invalid as exc:
        path, _, msg = exc.detail.partition(": ")
        errors = exc.errors or [
            {"loc": error_loc(path), "path": path, "msg": msg or exc.detail, "type": "value_error"}
        ]
        raise Problem(422, exc.detail, errors=errors) from exc


def located(status: int, description: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI for a response that names the new resource in `Location`."""
    header = {"description": "path of the new resource", "schema": {"type": "string"}}
    return {status: {"description": description, "headers": {"Location": header}}}


CSV_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "CSV with a header row; timestamps ISO 8601 UTC; empty cells for null",
        "content": {"text/csv": {"schema": {"type": "string"}}},
    }
}
