"""Which charge points a site holds and in which of its groups; the site as a tree of groups, charge
points and connectors."""

from dataclasses import dataclass, field
from typing import Any

from app.domain.events import ChargePointPlaced
from app.domain.ocpp import ChargePoint
from app.domain.persistence import UnitOfWork
from app.domain.planning import Site
from app.services.errors import NotFound
from app.services.planning.groups import get_group
from app.services.planning.sites import get_site

__all__ = [
    "ChargePointNode",
    "ConnectorNode",
    "GroupNode",
    "SiteTopology",
    "assign_charge_point",
    "list_charge_points",
    "site_topology",
    "unassign_charge_point",
]


@dataclass(frozen=True)
class ConnectorNode:
    connector_id: int
    phases: int
    nominal_voltage_v: float
    max_current_a: float
    status: str | None

    @property
    def max_kw(self) -> float:
        return self.phases * self.nominal_voltage_v * self.max_current_a / 1000.0


@dataclass(frozen=True)
class ChargePointNode:
    id: str
    group_id: int | None
    connected: bool
    connectors: list[ConnectorNode] = field(default_factory=list)


@dataclass(frozen=True)
class GroupNode:
    id: int
    name: str
    parent_id: int | None
    capacity_kw: float | None
    capacity_profile: list[dict[str, Any]] | None


@dataclass(frozen=True)
class SiteTopology:
    site: Site
    groups: list[GroupNode]
    charge_points: list[ChargePointNode]


async def assign_charge_point(
    uow: UnitOfWork, site_id: int, charge_point_id: str, group_id: int | None
) -> ChargePoint:
    """Put a charge point in a site, and in one of its groups (or directly under the site when None).

    A change is announced (`ChargePointPlaced`): the scheduler replans the sites concerned and sends their
    charge points new default profiles, since each site's fallback capacity is now shared differently."""
    await get_site(uow, site_id)
    cp = await uow.charge_points.get(charge_point_id)
    if cp is None:
        raise NotFound(f"charge point {charge_point_id!r} not found")
    if group_id is not None:
        await get_group(uow, site_id, group_id)
    previous_site_id, previous_group_id = cp.site_id, cp.group_id
    cp.site_id, cp.group_id = site_id, group_id
    await uow.flush()
    if (previous_site_id, previous_group_id) != (site_id, group_id):
        uow.record(ChargePointPlaced(charge_point_id, site_id, group_id, previous_site_id))
    return cp


async def unassign_charge_point(uow: UnitOfWork, site_id: int, charge_point_id: str) -> None:
    cp = await uow.charge_points.get(charge_point_id)
    if cp is None or cp.site_id != site_id:
        raise NotFound(f"charge point {charge_point_id!r} not found in site {site_id}")
    cp.site_id, cp.group_id = None, None
    await uow.flush()
    uow.record(ChargePointPlaced(charge_point_id, None, None, site_id))


async def list_charge_points(uow: UnitOfWork, site_id: int, group_id: int | None = None) -> list[ChargePoint]:
    """The site's charge points (those of `group_id` only, when given), by id."""
    return await uow.sites.charge_points(site_id, group_id)


async def site_topology(uow: UnitOfWork, site_id: int) -> SiteTopology:
    """The site, its groups and its charge points with their connectors (connector 0 left out)."""
    site = await get_site(uow, site_id)
    groups = [
        GroupNode(g.id or 0, g.name, g.parent_id, g.capacity_kw, g.capacity_profile)
        for g in await uow.groups.list(site_id)
    ]
    cps = await uow.sites.charge_points(site_id)
    connectors: dict[str, list[ConnectorNode]] = {cp.id: [] for cp in cps}
    for c in await uow.sites.connectors(list(connectors)):
        connectors[c.charge_point_id].append(
            ConnectorNode(c.connector_id, c.phases, c.nominal_voltage_v, c.max_current_a, c.status)
        )
    nodes = [ChargePointNode(cp.id, cp.group_id, cp.connected, connectors[cp.id]) for cp in cps]
    return SiteTopology(site, groups, nodes)
