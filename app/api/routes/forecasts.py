"""Capacity forecasts of a site: posted by grid operators (JSON or CSV), read back as posted and effective."""

import json
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

import pandas as pd
from fastapi import APIRouter, Depends, Query, Request, Response, status
from pydantic import TypeAdapter
from starlette.datastructures import UploadFile

from app.api.deps import ClockDep, ReaderDep, UowDep, check_site_access, require
from app.api.errors import Problem
from app.api.schemas import (
    EffectiveForecastOut,
    EffectiveIntervalOut,
    ForecastDetail,
    ForecastIn,
    ForecastIntervalIn,
    ForecastIntervalOut,
    ForecastOut,
    ForecastRef,
    Page,
    ResampledIntervalOut,
    RowId,
    problems,
)
from app.api.support import CSV_RESPONSE, Since, Until, WindowDep, paged, service_problems, time_range, utc
from app.domain.access import Principal
from app.domain.enums import Role
from app.services.errors import Invalid
from app.services.planning import capacity, forecast_parsing, forecasts, sites
from app.settings import Settings

router = APIRouter(prefix="/sites/{site_id}/forecasts", tags=["forecasts"], responses=problems(401, 403, 404))

MAX_BODY_BYTES = 20 * 1024 * 1024
MAX_EFFECTIVE_INTERVALS = 20_000
PosterDep = Annotated[Principal, Depends(require(Role.operator, Role.grid_operator))]
Format = Annotated[Literal["json", "csv"] | None, Query(description="csv, or send Accept: text/csv")]


def _inline(schema: Any, defs: dict[str, Any]) -> Any:
    """A JSON schema with its local `$ref`s replaced by what they point to (our shapes are not recursive)."""
    if isinstance(schema, dict):
        if "$ref" in schema:
            return _inline(defs[schema["$ref"].rsplit("/", 1)[-1]], defs)
        return {k: _inline(v, defs) for k, v in schema.items() if k != "$defs"}
    if isinstance(schema, list):
        return [_inline(v, defs) for v in schema]
    return schema


def _body_schema() -> dict[str, Any]:
    body: Any = ForecastIn | list[ForecastIntervalIn]  # a union: not a `type` to mypy
    adapter: TypeAdapter[Any] = TypeAdapter(body)
    schema = adapter.json_schema()
    inlined: dict[str, Any] = _inline(schema, schema.get("$defs", {}))
    return inlined


_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": _body_schema()},
            "text/csv": {
                "schema": {"type": "string"},
                "example": "start,end,limit_kw\n2030-01-01T00:00:00Z,2030-01-01T00:15:00Z,120\n",
            },
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary", "description": "the CSV"},
                        "forecast_id": {"type": "string"},
                        "issued_at": {"type": "string", "format": "date-time"},
                    },
                }
            },
        },
    }
}


def _wants_csv(request: Request, fmt: str | None) -> bool:
    return fmt == "csv" or (fmt is None and "text/csv" in request.headers.get("accept", ""))


def _csv(frame: pd.DataFrame, filename: str) -> Response:
    for column in frame.columns:
        if isinstance(frame[column].dtype, pd.DatetimeTZDtype):
            frame[column] = frame[column].map(lambda t: t.isoformat() if pd.notna(t) else "")
    return Response(
        frame.to_csv(index=False, lineterminator="\n"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _settings(request: Request) -> Settings:
    settings = getattr(request.app.state, "settings", None)
    return settings if isinstance(settings, Settings) else Settings()


@router.post(
    "",
    summary="Post a forecast: JSON ({forecast_id?, issued_at?, intervals} or a list), CSV or a CSV file",
    description=(
        "Any resolution; read back resampled to the site interval by the minimum over each interval. "
        "Idempotent on `forecast_id` (else `issued_at`): a replay answers 200 with the stored forecast, "
        "different content under the same key 409. `forecast_id` and `issued_at` may also be query "
        "parameters (for CSV). Invalid rows: 422 naming each row (`intervals[3].limit_kw`, `row 5.start`)."
    ),
    status_code=status.HTTP_201_CREATED,
    openapi_extra=_BODY,
    responses={
        200: {"model": ForecastOut, "description": "a replay of a stored forecast"},
        **problems(409, 422),
        413: {"description": "body too large"},
        415: {"description": "neither JSON nor CSV"},
    },
)
async def post_forecast(
    site_id: RowId,
    request: Request,
    response: Response,
    uow: UowDep,
    principal: PosterDep,
    clock: ClockDep,
    forecast_id: Annotated[str | None, Query(max_length=100)] = None,
    issued_at: Annotated[str | None, Query(description="ISO 8601 with an offset")] = None,
) -> ForecastOut:
    check_site_access(principal, site_id)
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise Problem(413, f"a forecast body may have at most {MAX_BODY_BYTES} bytes")
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise Problem(413, f"a forecast body may have at most {MAX_BODY_BYTES} bytes")
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    with service_problems():
        if media in ("text/csv", "application/csv"):
            submission = forecast_parsing.parse_csv(body, forecast_id=forecast_id, issued_at=issued_at)
        elif media == "multipart/form-data":
            async with request.form() as form:
                upload = form.get("file")
                if not isinstance(upload, UploadFile):
                    raise Invalid("file: a form field 'file' with the CSV is required")
                ref, issued = form.get("forecast_id"), form.get("issued_at")
                submission = forecast_parsing.parse_csv(
                    await upload.read(),
                    forecast_id=ref if isinstance(ref, str) else forecast_id,
                    issued_at=issued if isinstance(issued, str) else issued_at,
                )
        elif media == "application/json" or media.endswith("+json"):
            try:
                document: Any = json.loads(body)
            except (ValueError, UnicodeDecodeError) as exc:
                raise Invalid(f"body: not valid JSON ({exc})") from exc
            submission = forecast_parsing.parse_json(document, forecast_id=forecast_id, issued_at=issued_at)
        else:
            raise Problem(
                415, f"send application/json, text/csv or multipart/form-data, not {media or 'nothing'!r}"
            )
        forecast, created = await forecasts.post_forecast(
            uow,
            site_id,
            submission,
            now=clock.now(),
            max_horizon_days=_settings(request).forecast_max_horizon_days,
            author=principal.name,
            author_key_id=principal.key_id,
        )
    response.headers["Location"] = f"/api/v1/sites/{site_id}/forecasts/{forecast.id}"
    if not created:
        response.status_code = status.HTTP_200_OK
    return ForecastOut.model_validate(forecast)


@router.get("", summary="The site's forecasts, most recently issued first")
async def list_forecasts(
    site_id: RowId,
    uow: UowDep,
    principal: ReaderDep,
    window: WindowDep,
    forecast_id: str | None = None,
    issued_from: Annotated[datetime | None, Query(description="issued at or after (no offset: UTC)")] = None,
    issued_to: Annotated[datetime | None, Query(description="issued before")] = None,
) -> Page[ForecastOut]:
    check_site_access(principal, site_id)
    with service_problems():
        found = await forecasts.list_forecasts(
            uow,
            site_id,
            window,
            forecast_id=forecast_id,
            issued_from=utc(issued_from),
            issued_to=utc(issued_to),
        )
    return paged([ForecastOut.model_validate(f) for f in found.items], found, window)


@router.get(
    "/effective",
    summary="Per site interval: the limit that applies and which forecast it comes from (JSON or CSV)",
    description="Window `from`–`to` (default: the next 24 hours), widened to whole site intervals.",
    responses=CSV_RESPONSE | problems(422),
)
async def effective_forecast(
    site_id: RowId,
    request: Request,
    uow: UowDep,
    principal: ReaderDep,
    clock: ClockDep,
    since: Since = None,
    until: Until = None,
    as_of: Annotated[
        datetime | None, Query(description="only forecasts received by then (no offset: UTC)")
    ] = None,
    format: Format = None,
) -> EffectiveForecastOut:
    check_site_access(principal, site_id)
    since, until = time_range(since, until)
    with service_problems():
        site = await sites.get_site(uow, site_id)
        start = capacity.floor_to_interval(since or clock.now(), site.interval_minutes)
        end = capacity.ceil_to_interval(until or start + timedelta(days=1), site.interval_minutes)
        n_intervals = int((end - start) / timedelta(minutes=site.interval_minutes))
        if n_intervals > MAX_EFFECTIVE_INTERVALS:
            raise Invalid(f"to: at most {MAX_EFFECTIVE_INTERVALS} intervals per request")
        effective = await forecasts.effective_forecast(uow, site_id, start, n_intervals, as_of=utc(as_of))
    intervals = [
        EffectiveIntervalOut(
            start=i.start,
            end=i.end,
            limit_kw=i.limit_kw,
            capacity_kw=i.capacity_kw,
            source=i.source,
            forecast=ForecastRef(id=i.forecast_pk, forecast_id=i.forecast_id, issued_at=i.issued_at)
            if i.forecast_pk is not None and i.issued_at is not None
            else None,
            lowered_by=list(i.lowered_by),
        )
        for i in effective
    ]
    if _wants_csv(request, format):
        frame = pd.DataFrame(
            {
                "start": [i.start.isoformat() for i in effective],
                "end": [i.end.isoformat() for i in effective],
                "limit_kw": [i.limit_kw for i in effective],
                "capacity_kw": [i.capacity_kw for i in effective],
                "source": [i.source for i in effective],
                "forecast": [i.forecast_pk for i in effective],
                "forecast_id": [i.forecast_id for i in effective],
                "issued_at": [i.issued_at.isoformat() if i.issued_at else "" for i in effective],
            }
        )
        frame["forecast"] = frame["forecast"].astype("Int64")
        return _csv(frame, f"site-{site_id}-effective.csv")  # type: ignore[return-value]
    return EffectiveForecastOut(
        site_id=site_id,
        interval_minutes=site.interval_minutes,
        grid_connection_limit_kw=site.grid_connection_limit_kw,
        fallback_limit_kw=site.fallback_limit_kw,
        safety_margin_kw=site.safety_margin_kw,
        intervals=intervals,
    )


@router.get(
    "/{forecast_pk}",
    summary="A forecast: its rows as posted and resampled to the site interval (JSON; CSV: rows as posted)",
    responses=CSV_RESPONSE,
)
async def get_forecast(
    site_id: RowId,
    forecast_pk: RowId,
    request: Request,
    uow: UowDep,
    principal: ReaderDep,
    format: Format = None,
) -> ForecastDetail:
    check_site_access(principal, site_id)
    with service_problems():
        site = await sites.get_site(uow, site_id)
        forecast = await forecasts.get_forecast(uow, site_id, forecast_pk)
        rows = await forecasts.forecast_rows(uow, forecast_pk)
    posted = pd.DataFrame(
        {
            "start": [r.start for r in rows],
            "end": [r.end for r in rows],
            "limit_kw": [r.limit_kw for r in rows],
        }
    )
    if _wants_csv(request, format):
        out = posted.assign(start=[r.start.isoformat() for r in rows], end=[r.end.isoformat() for r in rows])
        return _csv(out, f"forecast-{forecast_pk}.csv")  # type: ignore[return-value]
    step = timedelta(minutes=site.interval_minutes)
    start = capacity.floor_to_interval(forecast.starts_at, site.interval_minutes)
    n_intervals = int((capacity.ceil_to_interval(forecast.ends_at, site.interval_minutes) - start) / step)
    resampled = capacity.resample(posted, start, n_intervals, site.interval_minutes)
    return ForecastDetail.model_validate(
        {
            **ForecastOut.model_validate(forecast).model_dump(),
            "interval_minutes": site.interval_minutes,
            "intervals": [ForecastIntervalOut.model_validate(r) for r in rows],
            "resampled": [
                ResampledIntervalOut(
                    start=start + int(slot) * step,
                    end=start + (int(slot) + 1) * step,
                    limit_kw=float(limit),
                    covered=round(float(covered) / step.total_seconds(), 6),
                )
                for _, slot, limit, covered in resampled.itertuples(index=False)
            ],
        }
    )


__all__ = ["router"]
