"""Registry: the one write path for charge points, their connector settings, and id tags."""

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import anyio.to_thread

from app.domain.enums import RegistrationStatus, SecurityProfile
from app.domain.ocpp import ChargePoint, Connector, IdTag
from app.domain.persistence import UnitOfWork
from app.services.errors import AlreadyExists, Conflict, InvalidReference, NotFound
from app.services.passwords import hash_password

__all__ = [
    "AlreadyExists",
    "Conflict",
    "InvalidReference",
    "NotFound",
    "create_charge_point",
    "create_id_tag",
    "delete_charge_point",
    "delete_id_tag",
    "update_charge_point",
    "update_connector",
    "update_id_tag",
]


CHARGE_POINT_CHANGES = frozenset(
    {"description", "password", "registration_status", "min_current_a", "security_profile"}
)
CONNECTOR_CHANGES = frozenset({"phases", "nominal_voltage_v", "max_current_a", "min_current_a"})
ID_TAG_CHANGES = frozenset(
    {"parent_id_tag", "expiry_date", "blocked", "max_active_transactions", "note", "driver_id"}
)


def _check(changes: Mapping[str, Any], allowed: frozenset[str]) -> None:
    unknown = set(changes) - allowed
    if unknown:
        raise ValueError(f"cannot change {sorted(unknown)}")


async def _password_hash(password: str | None) -> str | None:
    # Argon2 is deliberately slow: keep it off the event loop.
    return None if password is None else await anyio.to_thread.run_sync(hash_password, password)


async def _charge_point(uow: UnitOfWork, charge_point_id: str) -> ChargePoint:
    charge_point = await uow.charge_points.get(charge_point_id)
    if charge_point is None:
        raise NotFound(f"charge point {charge_point_id!r} is not registered")
    return charge_point


async def create_charge_point(
    uow: UnitOfWork,
    charge_point_id: str,
    *,
    description: str | None = None,
    password: str | None = None,
    registration_status: RegistrationStatus = RegistrationStatus.accepted,
    security_profile: SecurityProfile = SecurityProfile.unsecured,
) -> ChargePoint:
    taken = AlreadyExists(f"charge point {charge_point_id!r} is already registered")
    if await uow.charge_points.get(charge_point_id) is not None:
        raise taken
    charge_point = ChargePoint(
        id=charge_point_id,
        description=description,
        password_hash=await _password_hash(password),
        registration_status=registration_status.value,
        security_profile=int(security_profile),
    )
    if not await uow.charge_points.add(charge_point):  # registered concurrently (a request, the gateway)
        raise taken
    return charge_point


async def update_charge_point(
    uow: UnitOfWork, charge_point_id: str, changes: Mapping[str, Any]
) -> ChargePoint:
    """Apply `changes`: description, password (None removes it), registration_status, min_current_a,
    security_profile (the weakest it may connect with; applies from its next connection).

    Placing a charge point in a site or group is `app.services.planning.topology.assign_charge_point`."""
    _check(changes, CHARGE_POINT_CHANGES)
    charge_point = await _charge_point(uow, charge_point_id)
    if "description" in changes:
        charge_point.description = changes["description"]
    if "password" in changes:
        charge_point.password_hash = await _password_hash(changes["password"])
    if "registration_status" in changes:
        charge_point.registration_status = RegistrationStatus(changes["registration_status"]).value
    if "min_current_a" in changes:
        charge_point.min_current_a = changes["min_current_a"]
    if "security_profile" in changes:
        charge_point.security_profile = int(SecurityProfile(changes["security_profile"]))
    await uow.flush()
    return charge_point


async def delete_charge_point(uow: UnitOfWork, charge_point_id: str, *, connected: bool) -> None:
    """Remove a charge point and what it reported; refused while connected or once it has transactions."""
    charge_point = await _charge_point(uow, charge_point_id)
    if connected:
        raise Conflict(f"charge point {charge_point_id!r} is connected; disconnect it first")
    transactions = await uow.transactions.count_of_charge_point(charge_point_id)
    if transactions:
        raise Conflict(
            f"charge point {charge_point_id!r} has {transactions} transactions, kept for accounting; "
            "set registration_status to Rejected instead"
        )
    refused = await uow.charge_points.delete(charge_point)
    if refused is not None:
        raise Conflict(f"charge point {charge_point_id!r} is still referenced: {refused}")


async def update_connector(
    uow: UnitOfWork, charge_point_id: str, connector_id: int, changes: Mapping[str, Any]
) -> Connector:
    """Change a connector's electrical settings; creates the connector if it has not reported yet."""
    _check(changes, CONNECTOR_CHANGES)
    await _charge_point(uow, charge_point_id)
    connector = await uow.charge_points.connector(charge_point_id, connector_id)
    if connector is None:
        connector = Connector(charge_point_id=charge_point_id, connector_id=connector_id)
    for name, value in changes.items():
        setattr(connector, name, value)
    if not await uow.charge_points.save_connector(connector):  # the charge point reported it meanwhile
        raise Conflict(f"connector {connector_id} of {charge_point_id!r} changed concurrently; retry")
    return connector


async def _check_parent(uow: UnitOfWork, id_tag: str, parent_id_tag: str | None) -> None:
    if parent_id_tag is None:
        return
    if parent_id_tag == id_tag:
        raise InvalidReference("parent_id_tag", "an id tag cannot be its own parent")
    if await uow.id_tags.get(parent_id_tag) is None:
        raise InvalidReference("parent_id_tag", f"id tag {parent_id_tag!r} does not exist")


async def _check_driver(uow: UnitOfWork, driver_id: int | None) -> None:
    if driver_id is not None and await uow.drivers.get(driver_id) is None:
        raise InvalidReference("driver_id", f"driver {driver_id} does not exist")


async def create_id_tag(
    uow: UnitOfWork,
    id_tag: str,
    *,
    parent_id_tag: str | None = None,
    expiry_date: datetime | None = None,
    blocked: bool = False,
    max_active_transactions: int = 1,
    note: str | None = None,
    driver_id: int | None = None,
) -> IdTag:
    taken = AlreadyExists(f"id tag {id_tag!r} already exists")
    if await uow.id_tags.get(id_tag) is not None:
        raise taken
    await _check_parent(uow, id_tag, parent_id_tag)
    await _check_driver(uow, driver_id)
    tag = IdTag(
        id_tag=id_tag,
        parent_id_tag=parent_id_tag,
        expiry_date=expiry_date,
        blocked=blocked,
        max_active_transactions=max_active_transactions,
        note=note,
        driver_id=driver_id,
    )
    if not await uow.id_tags.add(tag):
        raise taken
    return tag


async def update_id_tag(uow: UnitOfWork, id_tag: str, changes: Mapping[str, Any]) -> IdTag:
    _check(changes, ID_TAG_CHANGES)
    tag = await uow.id_tags.get(id_tag)
    if tag is None:
        raise NotFound(f"id tag {id_tag!r} does not exist")
    if "parent_id_tag" in changes:
        await _check_parent(uow, id_tag, changes["parent_id_tag"])
    if "driver_id" in changes:
        await _check_driver(uow, changes["driver_id"])
    for name, value in changes.items():
        setattr(tag, name, value)
    await uow.flush()
    return tag


async def delete_id_tag(uow: UnitOfWork, id_tag: str) -> None:
    """Remove an id tag; its transactions keep the tag's value. Refused while it is charging."""
    tag = await uow.id_tags.get(id_tag)
    if tag is None:
        raise NotFound(f"id tag {id_tag!r} does not exist")
    active = await uow.transactions.count_active(id_tag)
    if active:
        raise Conflict(f"id tag {id_tag!r} is in {active} active transaction(s)")
    children = await uow.id_tags.count_children(id_tag)
    if children:
        raise Conflict(f"id tag {id_tag!r} is the parent of {children} id tag(s)")
    await uow.id_tags.delete(tag)
