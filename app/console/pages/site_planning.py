"""What a site's page shows and takes beyond its chart: the overrides on the site (add one on the site or
on one of its groups, charge points, connectors or transactions; change its value or end; end it now,
withdraw a scheduled one), a forecast CSV upload with its refusals row by row, the latest forecasts, and
the schedule revisions with what triggered them and the constraint that binds. Through the services and
request schemas of `/api/v1/overrides` and `/api/v1/sites/{id}/forecasts`; each role sees and does what
the API lets it (overrides: not a grid operator's; forecasts: admin, operator and grid operator post)."""

from datetime import UTC, datetime
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response

from app.api.deps import ClockDep, StoreDep
from app.api.schemas import OverrideCreate, OverrideUpdate
from app.console.auth import ConsoleUser, Viewer, check_csrf
from app.console.forms import FieldErrors, optional, parsed, submitted
from app.console.pages.sites import render_site_page
from app.console.site_views import may_post_forecasts
from app.domain.persistence import UnitOfWork
from app.services.errors import Invalid, NotFound, ServiceError
from app.services.planning import forecast_parsing, forecasts, overrides
from app.settings import Settings

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

MAX_UPLOAD_BYTES = 20 * 1024 * 1024  # the API's limit on a forecast body


def _utc_text(text: str) -> str | None:
    """A `datetime-local` value (no offset) as UTC; anything else as typed (the schema judges it)."""
    value = optional(text)
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    return value if moment.tzinfo is not None else moment.replace(tzinfo=UTC).isoformat()


def _row_errors(items: list[dict[str, Any]]) -> list[dict[str, str]]:
    """A forecast's refusal as a table: the CSV row (data rows counted from 1), its field, the problem."""
    shown = []
    for item in items:
        where, _, field = str(item.get("path", "")).partition(".")
        row = where.removeprefix("row ") if where.startswith("row ") else ""
        shown.append({"row": row, "field": field or ("" if row else where), "msg": str(item.get("msg", ""))})
    return shown


def _refused(viewer: Viewer, what: str) -> FieldErrors:
    return {"": f"The role {viewer.principal.role.value!r} may not {what}."}


TARGETS = {  # an override's scope → the form's fields that name its target
    "site": (),
    "group": ("group_id",),
    "charge_point": ("charge_point_id",),
    "connector": ("charge_point_id", "connector_id"),
    "transaction": ("transaction_id",),
}


def _target_field(scope: str) -> str:
    """The form field a target outside the site is reported at."""
    return (TARGETS.get(scope) or ("scope",))[0]


@router.post("/sites/{site_id}/overrides")
async def add_override(
    site_id: int,
    request: Request,
    viewer: ConsoleUser,
    store: StoreDep,
    clock: ClockDep,
    csrf: Annotated[str, Form()] = "",
    scope: Annotated[str, Form()] = "site",
    kind: Annotated[str, Form()] = "",
    value: Annotated[str, Form()] = "",
    group_id: Annotated[str, Form()] = "",
    charge_point_id: Annotated[str, Form()] = "",
    connector_id: Annotated[str, Form()] = "",
    transaction_id: Annotated[str, Form()] = "",
    valid_until: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
) -> Response:
    """An override on the site or on one of its groups, charge points, connectors or transactions."""
    check_csrf(viewer, csrf)
    again = partial(render_site_page, request, viewer, store, clock, site_id)
    targets = {
        "group_id": group_id,
        "charge_point_id": charge_point_id,
        "connector_id": connector_id,
        "transaction_id": transaction_id,
    }
    values = {"scope": scope, "kind": kind, "value": value, "valid_until": valid_until, "reason": reason}
    values |= targets
    if not viewer.may_operate:
        return await again(403, override_errors=_refused(viewer, "add overrides"))
    now = clock.now()
    named = TARGETS.get(scope, ())
    body_values: dict[str, Any] = {
        "scope": scope,
        "kind": kind,
        "value": optional(value),
        "site_id": site_id if scope == "site" else None,
        **{name: optional(text) if name in named else None for name, text in targets.items()},
        "valid_until": _utc_text(valid_until),
        "reason": reason,
    }

    async def write(uow: UnitOfWork) -> str:
        body = parsed(OverrideCreate, body_values)
        spec = overrides.spec_from(body.model_dump(), now=now)
        created = await overrides.create_override(
            uow, spec, now=now, author=viewer.principal.name, author_key_id=viewer.principal.key_id
        )
        if created.site_id != site_id:  # raised inside the unit of work: nothing is stored
            raise Invalid(f"{_target_field(scope)}: the {scope.replace('_', ' ')} is not in this site")
        return f"/sites/{site_id}#overrides"

    async def refused(errors: FieldErrors) -> Response:
        return await again(422, override_errors=errors, override_values=values)

    return await submitted(store, write, refused)


@router.post("/sites/{site_id}/overrides/{override_id}")
async def change_override(
    site_id: int,
    override_id: int,
    request: Request,
    viewer: ConsoleUser,
    store: StoreDep,
    clock: ClockDep,
    csrf: Annotated[str, Form()] = "",
    value: Annotated[str, Form()] = "",
    valid_until: Annotated[str, Form()] = "",
) -> Response:
    """A new value or end (empty: until ended) for an override of the site, as `PATCH /overrides/{id}`
    does it: the same checks, audited, and the scheduler replans."""
    check_csrf(viewer, csrf)
    again = partial(render_site_page, request, viewer, store, clock, site_id)
    if not viewer.may_operate:
        return await again(403, override_errors=_refused(viewer, "change overrides"))
    now = clock.now()
    typed = {"value": value, "valid_until": valid_until}

    async def write(uow: UnitOfWork) -> str:
        body = parsed(OverrideUpdate, {"value": optional(value), "valid_until": _utc_text(valid_until)})
        found = await overrides.get_override(uow, override_id)
        if found.site_id != site_id:
            raise NotFound(f"override {override_id} is not on site {site_id}")
        await overrides.update_override(
            uow,
            override_id,
            body.model_dump(exclude_unset=True),
            now=now,
            author=viewer.principal.name,
            author_key_id=viewer.principal.key_id,
        )
        return f"/sites/{site_id}#override-{override_id}"

    async def refused(errors: FieldErrors) -> Response:
        return await again(422, edit_errors={override_id: errors}, edit_values={override_id: typed})

    return await submitted(store, write, refused)


@router.post("/sites/{site_id}/overrides/{override_id}/end")
async def end_override(
    site_id: int,
    override_id: int,
    request: Request,
    viewer: ConsoleUser,
    store: StoreDep,
    clock: ClockDep,
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """End an active override now (it stays, expired, in the audit); withdraw one not yet in force."""
    check_csrf(viewer, csrf)
    again = partial(render_site_page, request, viewer, store, clock, site_id)
    if not viewer.may_operate:
        return await again(403, override_errors=_refused(viewer, "end overrides"))
    now, author = clock.now(), viewer.principal.name
    try:
        async with store.unit_of_work() as uow:
            found = await overrides.get_override(uow, override_id)
            if found.site_id != site_id:
                raise Invalid(f"override {override_id} is not on site {site_id}")
            key = viewer.principal.key_id
            if overrides.override_status(found, now) == "active":
                changes = {"valid_until": now}
                await overrides.update_override(
                    uow, override_id, changes, now=now, author=author, author_key_id=key
                )
            else:
                await overrides.delete_override(uow, override_id, now=now, author=author, author_key_id=key)
    except ServiceError as exc:
        return await again(409, override_errors={"": exc.detail})
    return RedirectResponse(f"/sites/{site_id}#overrides", status_code=303)


@router.post("/sites/{site_id}/forecasts")
async def upload_forecast(
    site_id: int,
    request: Request,
    viewer: ConsoleUser,
    store: StoreDep,
    clock: ClockDep,
    file: Annotated[UploadFile, File()],
    csrf: Annotated[str, Form()] = "",
    forecast_id: Annotated[str, Form()] = "",
) -> Response:
    """A forecast CSV (`start,end,limit_kw`) as `POST /sites/{id}/forecasts` takes it; its refusal is shown
    row by row."""
    check_csrf(viewer, csrf)
    again = partial(render_site_page, request, viewer, store, clock, site_id)
    if not may_post_forecasts(viewer) or not viewer.principal.may_reach(site_id):
        errors = _row_errors([{"path": "", "msg": _refused(viewer, "post forecasts")[""]}])
        return await again(403, forecast_errors=errors)
    data = await file.read(MAX_UPLOAD_BYTES + 1)
    settings = getattr(request.app.state, "settings", None)
    horizon_days = (settings if isinstance(settings, Settings) else Settings()).forecast_max_horizon_days
    try:
        if len(data) > MAX_UPLOAD_BYTES:
            raise Invalid(f"file: at most {MAX_UPLOAD_BYTES} bytes")
        submission = forecast_parsing.parse_csv(data, forecast_id=optional(forecast_id))
        async with store.unit_of_work() as uow:
            forecast, created = await forecasts.post_forecast(
                uow,
                site_id,
                submission,
                now=clock.now(),
                max_horizon_days=horizon_days,
                author=viewer.principal.name,
                author_key_id=viewer.principal.key_id,
            )
    except ServiceError as exc:
        rows = _row_errors(getattr(exc, "errors", None) or [{"path": "", "msg": exc.detail}])
        return await again(422, forecast_errors=rows, forecast_file=file.filename or "the file")
    outcome = "posted" if created else "replayed"
    return RedirectResponse(f"/sites/{site_id}?forecast={forecast.id}&outcome={outcome}#forecasts", 303)
