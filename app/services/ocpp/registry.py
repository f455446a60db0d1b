"""Registry: the one write path for charge points, their connector settings, and id tags."""

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import anyio.to_thread
from sqlalchemy import delete, func
from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.sql import core_table
from app.db.tables.ocpp import connector_table, id_tag_table, transaction_table
from app.domain.enums import RegistrationStatus
from app.domain.ocpp import (
    BootNotification,
    ChargePoint,
    ChargePointConfiguration,
    Command,
    Connector,
    DataTransfer,
    IdTag,
    MeterValue,
    Reservation,
    StatusNotification,
    Transaction,
)
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


CHARGE_POINT_CHANGES = frozenset({"description", "password", "registration_status"})
CONNECTOR_CHANGES = frozenset({"phases", "nominal_voltage_v", "max_current_a"})
ID_TAG_CHANGES = frozenset({"parent_id_tag", "expiry_date", "blocked", "max_active_transactions", "note"})


def _check(changes: Mapping[str, Any], allowed: frozenset[str]) -> None:
    unknown = set(changes) - allowed
    if unknown:
        raise ValueError(f"cannot change {sorted(unknown)}")


async def _password_hash(password: str | None) -> str | None:
    # Argon2 is deliberately slow: keep it off the event loop.
    return None if password is None else await anyio.to_thread.run_sync(hash_password, password)


async def _charge_point(session: AsyncSession, charge_point_id: str) -> ChargePoint:
    charge_point = await session.get(ChargePoint, charge_point_id)
    if charge_point is None:
        raise NotFound(f"charge point {charge_point_id!r} is not registered")
    return charge_point


async def create_charge_point(
    session: AsyncSession,
    charge_point_id: str,
    *,
    description: str | None = None,
    password: str | None = None,
    registration_status: RegistrationStatus = RegistrationStatus.accepted,
) -> ChargePoint:
    if await session.get(ChargePoint, charge_point_id) is not None:
        raise AlreadyExists(f"charge point {charge_point_id!r} is already registered")
    charge_point = ChargePoint(
        id=charge_point_id,
        description=description,
        password_hash=await _password_hash(password),
        registration_status=registration_status.value,
    )
    session.add(charge_point)
    try:
        await session.flush()
    except IntegrityError as exc:  # registered concurrently (by another request or the gateway)
        raise AlreadyExists(f"charge point {charge_point_id!r} is already registered") from exc
    return charge_point


async def update_charge_point(
    session: AsyncSession, charge_point_id: str, changes: Mapping[str, Any]
) -> ChargePoint:
    """Apply `changes`: description, password (None removes it), registration_status.

    Placing a charge point in a site or group is `app.services.sites.assign_charge_point`."""
    _check(changes, CHARGE_POINT_CHANGES)
    charge_point = await _charge_point(session, charge_point_id)
    if "description" in changes:
        charge_point.description = changes["description"]
    if "password" in changes:
        charge_point.password_hash = await _password_hash(changes["password"])
    if "registration_status" in changes:
        charge_point.registration_status = RegistrationStatus(changes["registration_status"]).value
    session.add(charge_point)
    await session.flush()
    return charge_point


async def delete_charge_point(session: AsyncSession, charge_point_id: str, *, connected: bool) -> None:
    """Remove a charge point and what it reported; refused while connected or once it has transactions."""
    charge_point = await _charge_point(session, charge_point_id)
    if connected:
        raise Conflict(f"charge point {charge_point_id!r} is connected; disconnect it first")
    transactions = await session.scalar(
        select(func.count())
        .select_from(Transaction)
        .where(transaction_table.c.charge_point_id == charge_point_id)
    )
    if transactions:
        raise Conflict(
            f"charge point {charge_point_id!r} has {transactions} transactions, kept for accounting; "
            "set registration_status to Rejected instead"
        )
    for table in (
        MeterValue,
        StatusNotification,
        BootNotification,
        Connector,
        ChargePointConfiguration,
        Reservation,
        Command,
        DataTransfer,
    ):
        core = core_table(table)
        await session.exec(delete(core).where(core.c.charge_point_id == charge_point_id))
    await session.delete(charge_point)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise Conflict(f"charge point {charge_point_id!r} is still referenced: {exc.orig}") from exc


async def update_connector(
    session: AsyncSession, charge_point_id: str, connector_id: int, changes: Mapping[str, Any]
) -> Connector:
    """Change a connector's electrical settings; creates the connector if it has not reported yet."""
    _check(changes, CONNECTOR_CHANGES)
    await _charge_point(session, charge_point_id)
    query = select(Connector).where(
        connector_table.c.charge_point_id == charge_point_id, connector_table.c.connector_id == connector_id
    )
    connector = (await session.exec(query)).first()
    if connector is None:
        connector = Connector(charge_point_id=charge_point_id, connector_id=connector_id)
    for name, value in changes.items():
        setattr(connector, name, value)
    session.add(connector)
    try:
        await session.flush()
    except IntegrityError as exc:  # the charge point reported this connector at the same moment
        raise Conflict(
            f"connector {connector_id} of {charge_point_id!r} changed concurrently; retry"
        ) from exc
    return connector


async def _check_parent(session: AsyncSession, id_tag: str, parent_id_tag: str | None) -> None:
    if parent_id_tag is None:
        return
    if parent_id_tag == id_tag:
        raise InvalidReference("parent_id_tag", "an id tag cannot be its own parent")
    if await session.get(IdTag, parent_id_tag) is None:
        raise InvalidReference("parent_id_tag", f"id tag {parent_id_tag!r} does not exist")


async def create_id_tag(
    session: AsyncSession,
    id_tag: str,
    *,
    parent_id_tag: str | None = None,
    expiry_date: datetime | None = None,
    blocked: bool = False,
    max_active_transactions: int = 1,
    note: str | None = None,
) -> IdTag:
    if await session.get(IdTag, id_tag) is not None:
        raise AlreadyExists(f"id tag {id_tag!r} already exists")
    await _check_parent(session, id_tag, parent_id_tag)
    tag = IdTag(
        id_tag=id_tag,
        parent_id_tag=parent_id_tag,
        expiry_date=expiry_date,
        blocked=blocked,
        max_active_transactions=max_active_transactions,
        note=note,
    )
    session.add(tag)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise AlreadyExists(f"id tag {id_tag!r} already exists") from exc
    return tag


async def update_id_tag(session: AsyncSession, id_tag: str, changes: Mapping[str, Any]) -> IdTag:
    _check(changes, ID_TAG_CHANGES)
    tag = await session.get(IdTag, id_tag)
    if tag is None:
        raise NotFound(f"id tag {id_tag!r} does not exist")
    if "parent_id_tag" in changes:
        await _check_parent(session, id_tag, changes["parent_id_tag"])
    for name, value in changes.items():
        setattr(tag, name, value)
    session.add(tag)
    await session.flush()
    return tag


async def delete_id_tag(session: AsyncSession, id_tag: str) -> None:
    """Remove an id tag; its transactions keep the tag's value. Refused while it is charging."""
    tag = await session.get(IdTag, id_tag)
    if tag is None:
        raise NotFound(f"id tag {id_tag!r} does not exist")
    active = await session.scalar(
        select(func.count())
        .select_from(Transaction)
        .where(transaction_table.c.id_tag == id_tag, transaction_table.c.stop_timestamp.is_(None))
    )
    if active:
        raise Conflict(f"id tag {id_tag!r} is in {active} active transaction(s)")
    children = await session.scalar(
        select(func.count()).select_from(IdTag).where(id_tag_table.c.parent_id_tag == id_tag)
    )
    if children:
        raise Conflict(f"id tag {id_tag!r} is the parent of {children} id tag(s)")
    await session.delete(tag)
    await session.flush()
