"""The API's JSON as pandas objects: UTC timestamps (the index where time is the axis), categories for
states and kinds, nullable integers for optional ids, kW and kWh in named columns."""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

__all__ = ["Forecast", "Schedule"]

Items = Sequence[Mapping[str, Any]]


def table(
    items: Items,
    columns: Sequence[str],
    *,
    index: str | None = None,
    times: Iterable[str] = (),
    categories: Iterable[str] = (),
    ints: Iterable[str] = (),
) -> pd.DataFrame:
    """A frame of `items` with at least `columns` (in that order, then any others), typed."""
    frame = pd.DataFrame.from_records(list(items)) if items else pd.DataFrame()
    for name in columns:
        if name not in frame.columns:
            frame[name] = pd.Series(dtype=object)
    frame = frame[[*columns, *(c for c in frame.columns if c not in columns)]]
    for name in times:
        frame[name] = utc(frame[name])
    for name in categories:
        frame[name] = frame[name].astype("category")
    for name in ints:
        frame[name] = frame[name].astype("Int64")
    return frame if index is None else frame.set_index(index)


def utc(values: Any) -> Any:
    return pd.to_datetime(values, utc=True, format="ISO8601")


def sites(items: Items) -> pd.DataFrame:
    columns = ["id", "name", "timezone", "interval_minutes", "grid_connection_limit_kw"]
    columns += ["fallback_limit_kw", "safety_margin_kw", "created_at", "updated_at"]
    return table(items, columns, index="id", times=["created_at", "updated_at"])


CHARGE_POINT_TIMES = ["connected_since", "last_heartbeat_at", "last_seen_at", "last_boot_at"]


def charge_points(items: Items) -> pd.DataFrame:
    columns = ["id", "description", "registration_status", "site_id", "group_id", "connected"]
    columns += [*CHARGE_POINT_TIMES, "vendor", "model"]
    return table(
        items,
        columns,
        index="id",
        times=CHARGE_POINT_TIMES,
        categories=["registration_status"],
        ints=["site_id", "group_id"],
    )


def transactions(items: Items) -> pd.DataFrame:
    columns = ["id", "charge_point_id", "connector_id", "id_tag", "id_tag_status", "start_timestamp"]
    columns += ["stop_timestamp", "meter_start_wh", "meter_stop_wh", "stop_reason", "active", "energy_wh"]
    frame = table(
        items,
        [*columns, "reservation_id"],
        index="id",
        times=["start_timestamp", "stop_timestamp"],
        categories=["id_tag_status", "stop_reason"],
        ints=["meter_stop_wh", "reservation_id"],
    )
    frame["energy_kwh"] = frame["energy_wh"].astype("float64") / 1000
    return frame.sort_index()


def meter_values(items: Items) -> pd.DataFrame:
    """Indexed by sample time; `power_kw` / `energy_kwh` hold the W / Wh values in kW / kWh."""
    columns = ["id", "timestamp", "charge_point_id", "connector_id", "transaction_id", "measurand"]
    columns += ["phase", "unit", "value", "value_normalised", "unit_normalised", "context", "location"]
    frame = table(
        items,
        columns,
        times=["timestamp"],
        categories=["measurand", "phase", "unit", "unit_normalised", "context", "location"],
        ints=["transaction_id"],
    )
    value = frame["value_normalised"].astype("float64")
    unit = frame["unit_normalised"].astype(object)
    frame["power_kw"] = value.where(unit == "W") / 1000
    frame["energy_kwh"] = value.where(unit == "Wh") / 1000
    return frame.set_index("timestamp").sort_index(kind="stable")


def forecasts(items: Items) -> pd.DataFrame:
    columns = ["id", "forecast_id", "issued_at", "source", "author", "created_at", "starts_at", "ends_at"]
    return table(
        items,
        [*columns, "interval_count"],
        index="id",
        times=["issued_at", "created_at", "starts_at", "ends_at"],
        categories=["source"],
    )


def intervals(items: Items, columns: Sequence[str], **typed: Any) -> pd.DataFrame:
    """Per interval, indexed by `start` (UTC)."""
    frame = table(items, ["start", "end", *columns], times=["start", "end", *typed.pop("times", [])], **typed)
    return frame.set_index("start")


def effective(body: Mapping[str, Any]) -> pd.DataFrame:
    rows = [
        {**{k: v for k, v in i.items() if k != "forecast"}, **_ref(i.get("forecast"))}
        for i in body["intervals"]
    ]
    columns = ["limit_kw", "capacity_kw", "source", "forecast", "forecast_id", "issued_at", "lowered_by"]
    frame = intervals(rows, columns, times=["issued_at"], categories=["source"], ints=["forecast"])
    frame.attrs.update({k: v for k, v in body.items() if k != "intervals"})
    return frame


def _ref(ref: Mapping[str, Any] | None) -> dict[str, Any]:
    if ref is None:
        return {"forecast": None, "forecast_id": None, "issued_at": None}
    return {"forecast": ref["id"], "forecast_id": ref["forecast_id"], "issued_at": ref["issued_at"]}


def load(items: Items) -> pd.DataFrame:
    frame = intervals(items, ["limit_kw", "capacity_kw", "planned_kw", "measured_kw"])
    return frame.astype(dict.fromkeys(("limit_kw", "capacity_kw", "planned_kw", "measured_kw"), "float64"))


@dataclass(frozen=True)
class Forecast:
    """A posted forecast: what was said about it (`info`), its rows as posted and on the site's grid."""

    info: dict[str, Any]
    posted: pd.DataFrame
    resampled: pd.DataFrame


def forecast(body: Mapping[str, Any]) -> Forecast:
    info = {k: v for k, v in body.items() if k not in ("intervals", "resampled")}
    return Forecast(
        info=info,
        posted=intervals(body["intervals"], ["limit_kw"]),
        resampled=intervals(body["resampled"], ["limit_kw", "covered"]),
    )


REVISION_TIMES = ["created_at", "start"]


def revisions(items: Items) -> pd.DataFrame:
    columns = ["id", "created_at", "trigger", "status", "strategy", "solve_seconds", "start"]
    columns += ["interval_minutes", "n_intervals", "messages"]
    return table(items, columns, index="id", times=REVISION_TIMES, categories=["status", "strategy"])


@dataclass(frozen=True)
class Schedule:
    """A schedule revision: why and how it was made (`revision`), per interval what the plan could use,
    planned, what bound it and the value of one more kW (`intervals`), per transaction its demand and
    outcome (`sessions`), and each transaction's planned power (`power_kw`: intervals × transactions)."""

    revision: dict[str, Any]
    intervals: pd.DataFrame
    sessions: pd.DataFrame
    power_kw: pd.DataFrame


def schedule(body: Mapping[str, Any]) -> Schedule:
    revision = dict(body["revision"])
    starts = pd.date_range(
        utc(revision["start"]), periods=revision["n_intervals"], freq=f"{revision['interval_minutes']}min"
    )
    series = {name: revision[name] for name in ("capacity_kw", "planned_kw", "binding", "shadow_price")}
    per_interval = pd.DataFrame(series, index=pd.DatetimeIndex(starts, name="start"))
    per_interval["binding"] = per_interval["binding"].astype("category")
    per_interval["binds"] = per_interval["binding"] != "none"
    entries = body["entries"]
    columns = ["transaction_id", "charge_point_id", "connector_id", "max_kw", "energy_kwh"]
    columns += ["delivered_kwh", "unmet_kwh", "departure", "demand_source", "assumption"]
    sessions = table(
        [{k: v for k, v in e.items() if k != "power_kw"} for e in entries],
        columns,
        index="transaction_id",
        times=["departure"],
        categories=["demand_source", "assumption"],
    )
    power = pd.DataFrame(
        {e["transaction_id"]: e["power_kw"] for e in entries},
        index=per_interval.index,
        dtype="float64",
    )
    power.columns.name = "transaction_id"
    return Schedule(revision, per_interval, sessions, power)


def compliance(items: Items) -> pd.DataFrame:
    columns = ["id", "at", "transaction_id", "charge_point_id", "connector_id", "non_compliant", "reason"]
    columns += ["limit_kw", "measured_kw", "created_at", "site_id"]
    return table(
        items, columns, index="id", times=["at", "created_at"], categories=["reason"], ints=["site_id"]
    )


OVERRIDE_TIMES = ["valid_from", "valid_until", "created_at", "updated_at", "deleted_at"]


def overrides(items: Items) -> pd.DataFrame:
    columns = ["id", "scope", "kind", "value", "status", "site_id", "group_id", "charge_point_id"]
    columns += ["connector_id", "transaction_id", *OVERRIDE_TIMES, "reason", "author", "deleted_by"]
    return table(
        items,
        columns,
        index="id",
        times=OVERRIDE_TIMES,
        categories=["scope", "kind", "status"],
        ints=["site_id", "group_id", "connector_id", "transaction_id"],
    )


def audit(items: Items) -> pd.DataFrame:
    columns = ["id", "override_id", "action", "author", "at", "snapshot"]
    return table(items, columns, index="id", times=["at"], categories=["action"])
