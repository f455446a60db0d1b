"""What the console's browser tests share: the service's root URL, console users and logging in through the
form, a site with a charge point that boots over a real WebSocket."""

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from ocpp.v16 import call
from playwright.async_api import Page, expect

from app.domain.enums import Role
from app.services.users import create_user, hashed
from tests.e2e.service import Service
from tests.gateway.helpers import ClientChargePoint, connect_charge_point


def root(service: Service) -> str:
    return str(service.api.base_url.copy_with(path="")).rstrip("/")


async def log_in(page: Page, api_key: str) -> None:
    """On the log-in form (where any console page sends a visitor without a session), enter `api_key`."""
    await expect(page.get_by_role("heading", name="Log in to the console")).to_be_visible()
    await page.get_by_label("API key").fill(api_key)
    await page.get_by_role("button", name="Log in with the key").click()


async def log_in_as(page: Page, username: str, password: str) -> None:
    """On the log-in form, a console user's username and password."""
    await expect(page.get_by_role("heading", name="Log in to the console")).to_be_visible()
    await page.get_by_role("textbox", name="Username").fill(username)
    await page.get_by_label("Password", exact=True).fill(password)
    await page.get_by_role("button", name="Log in", exact=True).click()


async def add_site(service: Service, name: str, **fields: Any) -> int:
    body = {"name": name, "timezone": "Europe/Amsterdam", "grid_connection_limit_kw": 100.0}
    response = await service.api.post("/sites", json=body | {"fallback_limit_kw": 50.0} | fields)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


@contextlib.asynccontextmanager
async def booted_charge_point(service: Service, cp_id: str, site_id: int) -> AsyncIterator[ClientChargePoint]:
    """`cp_id` registered over the API in the site, connected over OCPP, booted, connector 1 Available."""
    response = await service.api.post("/charge-points", json={"id": cp_id, "description": f"{cp_id} bay"})
    assert response.status_code == 201, response.text
    response = await service.api.put(f"/sites/{site_id}/charge-points/{cp_id}", json={})
    assert response.status_code == 200, response.text
    async with connect_charge_point(service.app.state.gateway, cp_id) as client:
        boot = await client.call(
            call.BootNotification(charge_point_model="Wallbox-22", charge_point_vendor="ACME")
        )
        assert boot.status == "Accepted"
        await client.call(call.StatusNotification(connector_id=1, error_code="NoError", status="Available"))
        await client.call(call.Heartbeat())
        yield client


async def add_user(
    service: Service, username: str, password: str, role: Role, site_ids: list[int] | None = None
) -> int:
    """A console user, created through the service `smartcharge user create` calls."""
    password_hash = await hashed(password)
    async with service.app.state.store.unit_of_work() as uow:
        user = await create_user(uow, username, password_hash, role, site_ids=site_ids)
    assert user.id is not None
    return user.id
