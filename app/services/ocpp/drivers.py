"""Drivers: the people who own id tags (SteVe's users), and which tags each owns. The one write path for
both; a tag's owner is also set from the tag (`registry.update_id_tag`, `driver_id`)."""

from collections.abc import Collection, Mapping
from typing import Any

from app.domain.ocpp import Driver
from app.domain.paging import Found, Window
from app.domain.persistence import UnitOfWork
from app.domain.queries import DriverView
from app.services.errors import Invalid, InvalidReference, NotFound

__all__ = ["create_driver", "delete_driver", "get_driver", "list_drivers", "update_driver"]

DRIVER_CHANGES = frozenset({"name", "email", "phone", "note", "id_tags"})


async def _driver(uow: UnitOfWork, driver_id: int) -> Driver:
    driver = await uow.drivers.get(driver_id)
    if driver is None:
        raise NotFound(f"driver {driver_id} does not exist")
    return driver


async def _own(uow: UnitOfWork, driver: Driver, id_tags: Collection[str]) -> list[str]:
    """Make `id_tags` exactly the tags `driver` owns. A tag of another driver is refused (give it up there,
    or set the tag's `driver_id`); nothing is changed unless every tag is acceptable."""
    assert driver.id is not None
    wanted = sorted(set(id_tags))
    tags = []
    for id_tag in wanted:
        tag = await uow.id_tags.get(id_tag)
        if tag is None:
            raise InvalidReference("id_tags", f"id tag {id_tag!r} does not exist")
        if tag.driver_id is not None and tag.driver_id != driver.id:
            raise InvalidReference("id_tags", f"id tag {id_tag!r} belongs to driver {tag.driver_id}")
        tags.append(tag)
    for tag in await uow.id_tags.of_driver(driver.id):
        if tag.id_tag not in wanted:
            tag.driver_id = None
    for tag in tags:
        tag.driver_id = driver.id
    await uow.flush()
    return wanted


async def create_driver(
    uow: UnitOfWork,
    *,
    name: str,
    email: str | None = None,
    phone: str | None = None,
    note: str | None = None,
    id_tags: Collection[str] = (),
) -> DriverView:
    driver = Driver(name=name.strip(), email=email, phone=phone, note=note)
    if not driver.name:
        raise Invalid("name: must not be blank")
    await uow.drivers.add(driver)
    return DriverView(driver, await _own(uow, driver, id_tags))


async def get_driver(uow: UnitOfWork, driver_id: int) -> DriverView:
    driver = await _driver(uow, driver_id)
    assert driver.id is not None
    return DriverView(driver, [tag.id_tag for tag in await uow.id_tags.of_driver(driver.id)])


async def update_driver(uow: UnitOfWork, driver_id: int, changes: Mapping[str, Any]) -> DriverView:
    """Change the name, e-mail, phone or note; `id_tags` replaces the set of tags the driver owns."""
    unknown = set(changes) - DRIVER_CHANGES
    if unknown:
        raise ValueError(f"cannot change {sorted(unknown)}")
    driver = await _driver(uow, driver_id)
    if "name" in changes and not changes["name"].strip():
        raise Invalid("name: must not be blank")
    if "id_tags" in changes:
        await _own(uow, driver, changes["id_tags"])
    for name in ("name", "email", "phone", "note"):
        if name in changes:
            setattr(driver, name, changes[name].strip() if name == "name" else changes[name])
    await uow.flush()
    return await get_driver(uow, driver_id)


async def delete_driver(uow: UnitOfWork, driver_id: int) -> None:
    """Remove a driver; its tags stay, owned by nobody."""
    driver = await _driver(uow, driver_id)
    assert driver.id is not None
    for tag in await uow.id_tags.of_driver(driver.id):
        tag.driver_id = None
    await uow.flush()
    await uow.drivers.delete(driver)


async def list_drivers(uow: UnitOfWork, window: Window, *, search: str | None = None) -> Found[DriverView]:
    return await uow.drivers.list(window, search=search)
