"""Operator overrides: create, change, delete (soft), each change audited; in force by time, never cleaned up.

Kinds: `cap_kw` (at most `value` kW: the total of a site, group or charge point, or one session at a
connector or transaction), `fixed_kw` (exactly `value` kW for a session: connector or transaction scope),
`pause` (0 kW for every session in scope; no value), `priority` (`value` ≥ 0, higher first, for every session
in scope). An override is in force while `valid_from <= t < valid_until` (open-ended when `valid_until` is
null) and it is not deleted.
"""

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from app.domain.events import OverrideChanged
from app.domain.paging import Found, Window
from app.domain.persistence import UnitOfWork
from app.domain.planning import Override, OverrideAudit, OverrideKind, OverrideScope
from app.services.errors import Conflict, Invalid, NotFound
from app.services.planning.sites import get_site

__all__ = [
    "OverrideSpec",
    "active_overrides",
    "create_override",
    "delete_override",
    "get_override",
    "list_audit",
    "list_overrides",
    "override_status",
    "spec_from",
    "update_override",
]


SESSION_SCOPES = frozenset({OverrideScope.connector, OverrideScope.transaction})


@dataclass(frozen=True)
class OverrideSpec:
    scope: OverrideScope
    kind: OverrideKind
    reason: str
    valid_from: datetime
    valid_until: datetime | None = None
    value: float | None = None
    site_id: int | None = None
    group_id: int | None = None
    charge_point_id: str | None = None
    connector_id: int | None = None
    transaction_id: int | None = None


_TARGETS = {
    OverrideScope.site: ("site_id",),
    OverrideScope.group: ("group_id",),
    OverrideScope.charge_point: ("charge_point_id",),
    OverrideScope.connector: ("charge_point_id", "connector_id"),
    OverrideScope.transaction: ("transaction_id",),
}
_ALL_TARGETS = ("site_id", "group_id", "charge_point_id", "connector_id", "transaction_id")


def override_status(override: Override, at: datetime) -> str:
    """`deleted`, `scheduled` (not yet in force), `active` or `expired` at `at`."""
    if override.deleted_at is not None:
        return "deleted"
    if at < override.valid_from:
        return "scheduled"
    if override.valid_until is not None and at >= override.valid_until:
        return "expired"
    return "active"


def _check(spec: OverrideSpec) -> None:
    needed = _TARGETS[spec.scope]
    missing = [name for name in needed if getattr(spec, name) is None]
    if missing:
        raise Invalid(f"{missing[0]}: required for scope {spec.scope.value!r}")
    extra = [name for name in _ALL_TARGETS if name not in needed and getattr(spec, name) is not None]
    if extra:
        raise Invalid(f"{extra[0]}: not allowed for scope {spec.scope.value!r} (give {', '.join(needed)})")
    if spec.connector_id is not None and spec.connector_id < 1:
        raise Invalid("connector_id: must be ≥ 1")
    if spec.valid_from.tzinfo is None or (spec.valid_until is not None and spec.valid_until.tzinfo is None):
        raise Invalid("valid_from, valid_until: must be timezone-aware")
    if spec.valid_until is not None and spec.valid_until <= spec.valid_from:
        raise Invalid("valid_until: must be after valid_from")
    if not spec.reason.strip():
        raise Invalid("reason: must not be empty")
    if spec.kind is OverrideKind.pause:
        if spec.value is not None:
            raise Invalid("value: a pause takes no value")
        return
    if spec.value is None or not math.isfinite(spec.value) or spec.value < 0:
        raise Invalid(f"value: {spec.kind.value} needs a finite value ≥ 0")
    if spec.kind is OverrideKind.priority and spec.value != int(spec.value):
        raise Invalid("value: a priority is a whole number ≥ 0")
    if spec.kind is OverrideKind.fixed_kw and spec.scope not in SESSION_SCOPES:
        raise Invalid("kind: fixed_kw applies to one session (scope connector or transaction)")


async def _resolve(uow: UnitOfWork, spec: OverrideSpec) -> tuple[int | None, str | None]:
    """Check that the target exists; return its site (None when not assigned) and charge point (if any)."""
    if spec.scope is OverrideScope.site:
        assert spec.site_id is not None
        return (await get_site(uow, spec.site_id)).id, None
    if spec.scope is OverrideScope.group:
        assert spec.group_id is not None
        group = await uow.groups.get(spec.group_id)
        if group is None:
            raise NotFound(f"group {spec.group_id} not found")
        return group.site_id, None
    charge_point_id = spec.charge_point_id
    if spec.scope is OverrideScope.transaction:
        assert spec.transaction_id is not None
        tx = await uow.transactions.get(spec.transaction_id)
        if tx is None:
            raise NotFound(f"transaction {spec.transaction_id} not found")
        charge_point_id = tx.charge_point_id
    assert charge_point_id is not None
    cp = await uow.charge_points.get(charge_point_id)
    if cp is None:
        raise NotFound(f"charge point {charge_point_id!r} not found")
    return cp.site_id, cp.id


def snapshot(override: Override) -> dict[str, Any]:
    return {
        key: value.isoformat() if isinstance(value, datetime) else value
        for key, value in asdict(override).items()
    }


def _audit(
    uow: UnitOfWork, override: Override, action: str, at: datetime, author: str | None, key_id: int | None
) -> None:
    assert override.id is not None
    uow.overrides.add_audit(
        OverrideAudit(
            override_id=override.id,
            action=action,
            author=author,
            author_key_id=key_id,
            at=at,
            snapshot=snapshot(override),
        )
    )


def _event(override: Override, action: str) -> OverrideChanged:
    assert override.id is not None
    return OverrideChanged(
        override.id,
        action,
        override.scope,
        override.site_id,
        override.charge_point_id,
        override.transaction_id,
        override.valid_from,
        override.valid_until,
    )


async def create_override(
    uow: UnitOfWork,
    spec: OverrideSpec,
    *,
    now: datetime,
    author: str | None = None,
    author_key_id: int | None = None,
) -> Override:
    _check(spec)
    site_id, charge_point_id = await _resolve(uow, spec)
    override = Override(
        scope=spec.scope.value,
        site_id=site_id,
        group_id=spec.group_id,
        charge_point_id=charge_point_id,
        connector_id=spec.connector_id,
        transaction_id=spec.transaction_id,
        kind=spec.kind.value,
        value=spec.value,
        valid_from=spec.valid_from,
        valid_until=spec.valid_until,
        reason=spec.reason.strip(),
        author=author,
        author_key_id=author_key_id,
        created_at=now,
        updated_at=now,
    )
    uow.overrides.add(override)
    await uow.flush()
    _audit(uow, override, "created", now, author, author_key_id)
    uow.record(_event(override, "created"))
    return override


async def get_override(uow: UnitOfWork, override_id: int) -> Override:
    override = await uow.overrides.get(override_id)
    if override is None:
        raise NotFound(f"override {override_id} not found")
    return override


UPDATABLE = frozenset({"value", "valid_until", "reason"})


async def update_override(
    uow: UnitOfWork,
    override_id: int,
    changes: Mapping[str, Any],
    *,
    now: datetime,
    author: str | None = None,
    author_key_id: int | None = None,
) -> Override:
    """Change the value, the end or the reason of an override that is not deleted (audited)."""
    override = await get_override(uow, override_id)
    if override.deleted_at is not None:
        raise Conflict(f"override {override_id} is deleted")
    changes = {k: v for k, v in changes.items() if k in UPDATABLE}
    spec = OverrideSpec(
        scope=OverrideScope(override.scope),
        kind=OverrideKind(override.kind),
        reason=changes.get("reason", override.reason),
        valid_from=override.valid_from,
        valid_until=changes.get("valid_until", override.valid_until),
        value=changes.get("value", override.value),
        **{name: getattr(override, name) for name in _TARGETS[OverrideScope(override.scope)]},
    )
    _check(spec)
    override.value, override.valid_until, override.reason = spec.value, spec.valid_until, spec.reason.strip()
    override.updated_at = now
    await uow.flush()
    _audit(uow, override, "updated", now, author, author_key_id)
    uow.record(_event(override, "updated"))
    return override


async def delete_override(
    uow: UnitOfWork,
    override_id: int,
    *,
    now: datetime,
    author: str | None = None,
    author_key_id: int | None = None,
) -> Override:
    """Withdraw an override (kept, marked deleted, audited). Deleting it again changes nothing."""
    override = await get_override(uow, override_id)
    if override.deleted_at is None:
        override.deleted_at = override.updated_at = now
        override.deleted_by = author
        await uow.flush()
        _audit(uow, override, "deleted", now, author, author_key_id)
        uow.record(_event(override, "deleted"))
    return override


async def list_overrides(
    uow: UnitOfWork,
    window: Window,
    *,
    now: datetime,
    active: bool | None = None,
    include_deleted: bool = False,
    site_id: int | None = None,
    scope: OverrideScope | None = None,
    kind: OverrideKind | None = None,
    charge_point_id: str | None = None,
    transaction_id: int | None = None,
) -> Found[Override]:
    """Overrides, newest first. `active=True`: in force at `now`; `active=False`: not in force at `now`."""
    return await uow.overrides.list(
        window,
        now=now,
        active=active,
        include_deleted=include_deleted,
        site_id=site_id,
        scope=scope,
        kind=kind,
        charge_point_id=charge_point_id,
        transaction_id=transaction_id,
    )


async def list_audit(uow: UnitOfWork, override_id: int) -> list[OverrideAudit]:
    await get_override(uow, override_id)
    return await uow.overrides.audit(override_id)


async def active_overrides(uow: UnitOfWork, site_id: int, start: datetime, end: datetime) -> list[Override]:
    """Overrides in force at some time in [start, end) whose scope lies in the site (by its current
    topology: a charge point, connector or transaction belongs to the site its charge point is in)."""
    return await uow.overrides.in_force(site_id, start, end)


def spec_from(values: Mapping[str, Any], *, now: datetime) -> OverrideSpec:
    """An `OverrideSpec` from API values; `valid_from` defaults to `now`."""
    return OverrideSpec(
        scope=OverrideScope(values["scope"]),
        kind=OverrideKind(values["kind"]),
        reason=values["reason"],
        valid_from=values.get("valid_from") or now,
        valid_until=values.get("valid_until"),
        value=values.get("value"),
        site_id=values.get("site_id"),
        group_id=values.get("group_id"),
        charge_point_id=values.get("charge_point_id"),
        connector_id=values.get("connector_id"),
        transaction_id=values.get("transaction_id"),
    )
