"""Sites and their topology: groups (feeders) as a tree, charge points assigned to a site and group."""

from dataclasses import asdict

from fastapi import APIRouter, Response, status

from app.api.deps import OperatorDep, ReaderDep, UowDep, check_site_access
from app.api.schemas import (
    ChargePointAssignment,
    ChargePointNodeOut,
    ConnectorNodeOut,
    GroupCreate,
    GroupNodeOut,
    GroupOut,
    GroupUpdate,
    RowId,
    SiteChargePointOut,
    SiteCreate,
    SiteOut,
    SiteUpdate,
    TopologyOut,
    problems,
)
from app.api.support import service_problems
from app.domain.enums import Role
from app.domain.ocpp import ChargePoint
from app.domain.persistence import UnitOfWork
from app.domain.planning import Site, SiteGroup
from app.services.planning import groups, sites, topology
from app.services.planning.topology import ChargePointNode

router = APIRouter(prefix="/sites", tags=["sites"], responses=problems(401, 403, 422))


def _site_out(site: Site) -> SiteOut:
    return SiteOut.model_validate(site)


async def _group_out(uow: UnitOfWork, group: SiteGroup) -> GroupOut:
    assert group.id is not None
    cps = await topology.list_charge_points(uow, group.site_id, group.id)
    return GroupOut.model_validate({**asdict(group), "charge_point_ids": [cp.id for cp in cps]})


@router.get("", summary="List sites (a grid operator's key: its own)")
async def list_sites(uow: UowDep, principal: ReaderDep) -> list[SiteOut]:
    reach = principal.site_ids if principal.role is Role.grid_operator else None
    return [_site_out(s) for s in await sites.list_sites(uow, reach)]


@router.post("", status_code=status.HTTP_201_CREATED, summary="Add a site", responses=problems(409, 422))
async def create_site(body: SiteCreate, uow: UowDep, _: OperatorDep, response: Response) -> SiteOut:
    with service_problems():
        site = await sites.create_site(uow, body.model_dump())
    response.headers["Location"] = f"/api/v1/sites/{site.id}"
    return _site_out(site)


@router.get("/{site_id}", summary="A site", responses=problems(404))
async def get_site(site_id: RowId, uow: UowDep, principal: ReaderDep) -> SiteOut:
    check_site_access(principal, site_id)
    with service_problems():
        return _site_out(await sites.get_site(uow, site_id))


@router.patch("/{site_id}", summary="Change a site", responses=problems(404, 409, 422))
async def update_site(site_id: RowId, body: SiteUpdate, uow: UowDep, _: OperatorDep) -> SiteOut:
    with service_problems():
        site = await sites.update_site(uow, site_id, body.model_dump(exclude_unset=True))
    return _site_out(site)


@router.delete(
    "/{site_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a site with its forecasts (refused while it has groups or charge points)",
    responses=problems(404, 409),
)
async def delete_site(site_id: RowId, uow: UowDep, _: OperatorDep) -> None:
    with service_problems():
        await sites.delete_site(uow, site_id)


@router.get("/{site_id}/topology", summary="The site as a tree of groups and charge points")
async def get_topology(site_id: RowId, uow: UowDep, principal: ReaderDep) -> TopologyOut:
    check_site_access(principal, site_id)
    with service_problems():
        found = await topology.site_topology(uow, site_id)

    def node(cp: ChargePointNode) -> ChargePointNodeOut:
        connectors = [ConnectorNodeOut.model_validate(c) for c in cp.connectors]
        return ChargePointNodeOut(
            id=cp.id, group_id=cp.group_id, connected=cp.connected, connectors=connectors
        )

    def tree(parent: int | None) -> list[GroupNodeOut]:
        return [
            GroupNodeOut(
                id=g.id,
                name=g.name,
                capacity_kw=g.capacity_kw,
                capacity_profile=g.capacity_profile,
                groups=tree(g.id),
                charge_points=[node(cp) for cp in found.charge_points if cp.group_id == g.id],
            )
            for g in found.groups
            if g.parent_id == parent
        ]

    return TopologyOut(
        site=_site_out(found.site),
        groups=tree(None),
        charge_points=[node(cp) for cp in found.charge_points if cp.group_id is None],
    )


# --- groups --------------------------------------------------------------------------------------------


@router.get("/{site_id}/groups", summary="List the site's groups", responses=problems(404))
async def list_groups(site_id: RowId, uow: UowDep, principal: ReaderDep) -> list[GroupOut]:
    check_site_access(principal, site_id)
    with service_problems():
        await sites.get_site(uow, site_id)
        return [await _group_out(uow, g) for g in await groups.list_groups(uow, site_id)]


@router.post(
    "/{site_id}/groups",
    status_code=status.HTTP_201_CREATED,
    summary="Add a group (feeder)",
    responses=problems(404, 409, 422),
)
async def create_group(
    site_id: RowId, body: GroupCreate, uow: UowDep, _: OperatorDep, response: Response
) -> GroupOut:
    with service_problems():
        group = await groups.create_group(uow, site_id, body.model_dump(mode="json"))
    response.headers["Location"] = f"/api/v1/sites/{site_id}/groups/{group.id}"
    return await _group_out(uow, group)


@router.get("/{site_id}/groups/{group_id}", summary="A group", responses=problems(404))
async def get_group(site_id: RowId, group_id: RowId, uow: UowDep, principal: ReaderDep) -> GroupOut:
    check_site_access(principal, site_id)
    with service_problems():
        return await _group_out(uow, await groups.get_group(uow, site_id, group_id))


@router.patch(
    "/{site_id}/groups/{group_id}",
    summary="Change a group: name, parent (409 on a cycle), capacity",
    responses=problems(404, 409, 422),
)
async def update_group(
    site_id: RowId, group_id: RowId, body: GroupUpdate, uow: UowDep, _: OperatorDep
) -> GroupOut:
    with service_problems():
        group = await groups.update_group(
            uow, site_id, group_id, body.model_dump(mode="json", exclude_unset=True)
        )
    return await _group_out(uow, group)


@router.delete(
    "/{site_id}/groups/{group_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a group (refused while it has child groups or charge points)",
    responses=problems(404, 409),
)
async def delete_group(site_id: RowId, group_id: RowId, uow: UowDep, _: OperatorDep) -> None:
    with service_problems():
        await groups.delete_group(uow, site_id, group_id)


# --- charge points -------------------------------------------------------------------------------------


def _assignment(cp: ChargePoint) -> SiteChargePointOut:
    return SiteChargePointOut(
        charge_point_id=cp.id, site_id=cp.site_id, group_id=cp.group_id, connected=cp.connected
    )


@router.get("/{site_id}/charge-points", summary="The site's charge points and their groups")
async def list_site_charge_points(
    site_id: RowId, uow: UowDep, principal: ReaderDep, group_id: RowId | None = None
) -> list[SiteChargePointOut]:
    check_site_access(principal, site_id)
    with service_problems():
        await sites.get_site(uow, site_id)
        return [_assignment(cp) for cp in await topology.list_charge_points(uow, site_id, group_id)]


@router.put(
    "/{site_id}/charge-points/{charge_point_id}",
    summary="Put a charge point in this site, in a group or directly under the site",
    responses=problems(404, 422),
)
async def assign_charge_point(
    site_id: RowId, charge_point_id: str, body: ChargePointAssignment, uow: UowDep, _: OperatorDep
) -> SiteChargePointOut:
    with service_problems():
        cp = await topology.assign_charge_point(uow, site_id, charge_point_id, body.group_id)
    return _assignment(cp)


@router.delete(
    "/{site_id}/charge-points/{charge_point_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Take a charge point out of this site",
    responses=problems(404),
)
async def unassign_charge_point(site_id: RowId, charge_point_id: str, uow: UowDep, _: OperatorDep) -> None:
    with service_problems():
        await topology.unassign_charge_point(uow, site_id, charge_point_id)


__all__ = ["router"]
