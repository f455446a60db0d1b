"""What a site's page shows beside its chart, by role as in the API: the overrides on the site (not a
grid operator's), the latest forecasts and the schedule revisions with what triggered them and the
constraint that binds."""

from collections import Counter
from datetime import datetime
from typing import Any

from app.console.auth import Viewer
from app.domain.enums import Role
from app.domain.paging import Window
from app.domain.persistence import UnitOfWork
from app.domain.planning import OverrideKind, OverrideScope, ScheduleRevision, Site
from app.services.planning import forecasts, overrides, schedules

__all__ = ["binding_summary", "may_post_forecasts", "may_read_overrides", "planning_context"]

REVISIONS_SHOWN = 10
FORECASTS_SHOWN = 5
OVERRIDES_SHOWN = 50


def may_read_overrides(viewer: Viewer) -> bool:
    return viewer.principal.role in (Role.admin, Role.operator, Role.analyst)


def may_post_forecasts(viewer: Viewer) -> bool:
    return viewer.principal.role in (Role.admin, Role.operator, Role.grid_operator)


def binding_summary(revision: ScheduleRevision) -> str:
    """What binds over the revision's horizon: "site ×12, sessions ×4" (most frequent first)."""
    counts = Counter(name for name in revision.binding if name != "none")
    return ", ".join(f"{name} ×{n}" for name, n in counts.most_common()) or "none"


async def planning_context(uow: UnitOfWork, viewer: Viewer, site: Site, now: datetime) -> dict[str, Any]:
    assert site.id is not None
    revisions = await schedules.list_revisions(uow, site.id, Window(REVISIONS_SHOWN, 0))
    found = await forecasts.list_forecasts(uow, site.id, Window(FORECASTS_SHOWN, 0))
    shown = []
    if may_read_overrides(viewer):
        listed = await overrides.list_overrides(uow, Window(OVERRIDES_SHOWN, 0), now=now, site_id=site.id)
        shown = [(o, overrides.override_status(o, now)) for o in listed.items]
    return {
        "revisions": [(r, binding_summary(r)) for r in revisions.items],
        "forecasts": found.items,
        "overrides": shown,
        "may_read_overrides": may_read_overrides(viewer),
        "may_post_forecasts": may_post_forecasts(viewer),
        "kinds": [k.value for k in OverrideKind],
        "scopes": [s.value for s in OverrideScope],
    }
