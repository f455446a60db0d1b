"""Registering and changing charge points from the console in Chromium, through the registry service and
request schemas the API uses: the API's refusals shown at their fields with nothing stored, a charge point
registered in a site with a password and then connecting with it over a real WebSocket, its site,
description, security profile and minimum current changed, its password replaced and removed; a role that
may not write sees no form and is refused."""

import pytest
from ocpp.v16 import call
from playwright.async_api import Page, expect
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from app.domain.enums import Role
from ocpp_gateway import OcppServer
from tests.console.browser import chromium
from tests.console.helpers import add_site, booted_charge_point, log_in, root
from tests.e2e.service import ADMIN_TOKEN, Service, running_service
from tests.gateway.helpers import basic_auth, connect_charge_point, url

pytestmark = pytest.mark.anyio


async def charge_point(service: Service, cp_id: str) -> dict[str, object]:
    response = await service.api.get(f"/charge-points/{cp_id}")
    assert response.status_code == 200, response.text
    return dict(response.json())


async def attempt_status(gateway: OcppServer, cp_id: str, password: str) -> int:
    """The HTTP status of a WebSocket upgrade with this password (101 when it opened)."""
    try:
        async with connect(
            url(gateway, cp_id),
            subprotocols=["ocpp1.6"],  # type: ignore[list-item]
            additional_headers=basic_auth(cp_id, password),
        ):
            return 101
    except InvalidStatus as refused:
        return refused.response.status_code


async def register(page: Page, **values: str) -> None:
    form = page.locator("form.register")
    for name, value in values.items():
        field = form.locator(f'[name="{name}"]')
        if await field.evaluate("e => e.tagName") == "SELECT":
            await field.select_option(value)
        else:
            await field.fill(value)
    await form.get_by_role("button", name="Register charge point").click()


async def test_an_operator_registers_a_charge_point_that_then_connects_with_its_password(
    migrated_url: str,
) -> None:
    async with running_service(migrated_url) as service:
        depot = await add_site(service, "Depot")
        key = (await service.api.post("/api-keys", json={"role": Role.operator.value, "name": "ops"})).json()
        async with chromium(root(service)) as browser:
            page = await browser.open("/charge-points")
            await log_in(page, key["token"])

            # The API's schema refuses, at its fields; what was typed stays; nothing is stored.
            await register(page, id="CP 9", password="short", description="Bay 9", site_id=str(depot))
            errors = page.locator("form.register .field-error")
            await expect(errors.and_(page.locator('[data-field="id"]'))).to_contain_text(
                "should match pattern"
            )
            await expect(errors.and_(page.locator('[data-field="password"]'))).to_contain_text(
                "at least 8 characters"
            )
            await expect(page.locator('form.register [name="description"]')).to_have_value("Bay 9")
            assert (await service.api.get("/charge-points")).json()["total"] == 0
            # A site that does not exist (a stale form): refused at the site, and not registered either.
            csrf = await page.locator('form.register input[name="csrf"]').input_value()
            stale = {"csrf": csrf, "id": "CP8", "site_id": "999", "registration_status": "Accepted"}
            response = await page.request.post(f"{browser.base_url}/charge-points", form=stale)
            assert response.status == 422
            assert "site 999 not found" in await response.text()
            assert (await service.api.get("/charge-points/CP8")).status_code == 404

            await register(page, id="CP9", password="s3cret-pass", security_profile="1")
            await expect(page.get_by_role("heading", name="Charge point CP9")).to_be_visible()
            await expect(page.get_by_role("link", name="Depot")).to_be_visible()
            await expect(page.get_by_role("region", name="Connection")).to_contain_text(
                "1 or above: password"
            )
            await expect(page.get_by_text("set (HTTP Basic, user CP9)")).to_be_visible()
            await expect(page.get_by_role("region", name="Connection")).to_contain_text(
                "smartcharge simulate --id CP9 --url ws://127.0.0.1:"
            )
            await expect(page.get_by_role("region", name="Connection")).to_contain_text(
                "--session id tag --password its password"
            )
            stored = await charge_point(service, "CP9")
            assert (stored["site_id"], stored["has_password"], stored["security_profile"]) == (depot, True, 1)
            assert stored["description"] == "Bay 9"

            # The same id again: the service's refusal, at the id.
            await page.goto(f"{browser.base_url}/charge-points")
            await register(page, id="CP9")
            await expect(page.locator('form.register [data-field="id"]')).to_have_text(
                "charge point 'CP9' is already registered"
            )

            gateway = service.app.state.gateway
            assert await attempt_status(gateway, "CP9", "wrong-password") == 401
            async with connect_charge_point(gateway, "CP9", password="s3cret-pass") as client:
                boot = call.BootNotification(charge_point_model="Wallbox-22", charge_point_vendor="ACME")
                assert (await client.call(boot)).status == "Accepted"
            await page.goto(f"{browser.base_url}/charge-points/CP9")
            await expect(page.locator("table.boots")).to_contain_text("Wallbox-22")


async def test_an_operator_changes_a_charge_point_and_its_password(migrated_url: str) -> None:
    async with running_service(migrated_url) as service:
        depot, north = await add_site(service, "Depot"), await add_site(service, "North")
        body = {"id": "CP2", "description": "Bay 2", "password": "first-password"}
        assert (await service.api.post("/charge-points", json=body)).status_code == 201
        assert (await service.api.put(f"/sites/{depot}/charge-points/CP2", json={})).status_code == 200
        key = (await service.api.post("/api-keys", json={"role": Role.operator.value, "name": "ops"})).json()
        async with chromium(root(service)) as browser:
            page = await browser.open("/charge-points/CP2")
            await log_in(page, key["token"])
            settings = page.locator("form.settings")
            await expect(settings.locator('[name="description"]')).to_have_value("Bay 2")
            await expect(settings.locator('[name="site_id"]')).to_have_value(str(depot))

            await settings.locator('[name="description"]').fill("Bay 2, north wall")
            await settings.locator('[name="site_id"]').select_option(str(north))
            await settings.locator('[name="min_current_a"]').fill("-1")
            await settings.get_by_role("button", name="Save charge point").click()
            await expect(settings.locator('[data-field="min_current_a"]')).to_contain_text(
                "greater than or equal"
            )
            await expect(settings.locator('[name="description"]')).to_have_value("Bay 2, north wall")
            stored = await charge_point(service, "CP2")  # refused as a whole: the site did not change either
            assert (stored["description"], stored["site_id"]) == ("Bay 2", depot)

            await settings.locator('[name="min_current_a"]').fill("8")
            await settings.locator('[name="security_profile"]').select_option("1")
            await settings.get_by_role("button", name="Save charge point").click()
            await expect(page.get_by_role("status")).to_have_text("Saved.")
            await expect(page.get_by_role("link", name="North")).to_be_visible()
            stored = await charge_point(service, "CP2")
            assert stored["description"] == "Bay 2, north wall"
            assert (stored["site_id"], stored["min_current_a"], stored["security_profile"]) == (north, 8.0, 1)

            await settings.locator('[name="site_id"]').select_option("")  # out of its site
            await settings.get_by_role("button", name="Save charge point").click()
            await expect(page.get_by_role("status")).to_have_text("Saved.")
            assert (await charge_point(service, "CP2"))["site_id"] is None

            password = page.locator("form.password")
            await password.locator('[name="password"]').fill("short")
            await password.get_by_role("button", name="Set password").click()
            await expect(password.locator('[data-field="password"]')).to_contain_text("at least 8 characters")
            await password.locator('[name="password"]').fill("second-password")
            await password.get_by_role("button", name="Set password").click()
            await expect(page.get_by_role("status")).to_have_text("Saved.")
            gateway = service.app.state.gateway
            assert await attempt_status(gateway, "CP2", "first-password") == 401
            assert await attempt_status(gateway, "CP2", "second-password") == 101

            await password.get_by_role("button", name="Remove password").click()
            await expect(page.locator('dt:text-is("Password") + dd')).to_have_text("none")
            assert (await charge_point(service, "CP2"))["has_password"] is False


async def test_an_analyst_gets_no_form_and_its_posts_are_refused(migrated_url: str) -> None:
    async with running_service(migrated_url) as service:
        assert (await service.api.post("/charge-points", json={"id": "CP3"})).status_code == 201
        key = (await service.api.post("/api-keys", json={"role": "analyst", "name": "analyst"})).json()
        async with chromium(root(service)) as browser:
            page = await browser.open("/charge-points")
            await log_in(page, key["token"])
            await expect(page.get_by_role("heading", name="Charge points")).to_be_visible()
            await expect(page.locator("form.register")).to_have_count(0)
            await page.get_by_role("link", name="CP3").click()
            await expect(page.get_by_role("heading", name="Charge point CP3")).to_be_visible()
            for form in ("form.settings", "form.password", "form.registration", "form.change-configuration"):
                await expect(page.locator(form)).to_have_count(0)
            csrf = await page.locator('input[name="csrf"]').first.input_value()
            posts = {
                "/charge-points": {"id": "CP4"},
                "/charge-points/CP3": {"description": "mine"},
                "/charge-points/CP3/password": {"password": "long-enough-1"},
                "/charge-points/CP3/registration": {"registration_status": "Rejected"},
                "/charge-points/CP3/configuration": {"key": "HeartbeatInterval", "value": "60"},
                "/charge-points/CP3/composite-schedule": {"connectorId": "0", "duration": "60"},
            }
            for path, form in posts.items():
                response = await page.request.post(f"{browser.base_url}{path}", form=form | {"csrf": csrf})
                assert response.status == 403, path
            stored = await charge_point(service, "CP3")
            assert (stored["description"], stored["has_password"], stored["registration_status"]) == (
                None,
                False,
                "Accepted",
            )
            assert (await service.api.get("/charge-points/CP4")).status_code == 404


async def test_an_operator_changes_a_reported_connector(migrated_url: str) -> None:
    async with running_service(migrated_url) as service:
        site_id = await add_site(service, "Depot")
        async with booted_charge_point(service, "CP6", site_id), chromium(root(service)) as browser:
            page = await browser.open("/charge-points/CP6")
            await log_in(page, ADMIN_TOKEN)
            form = page.locator("form.connector-settings")
            await expect(form.locator('[name="connector_id"] option')).to_have_text(["1"])  # as reported

            await form.get_by_role("button", name="Save connector").click()
            await expect(form.get_by_role("alert")).to_have_text("Enter the settings to change.")
            await form.locator('[name="max_current_a"]').fill("0")
            await form.locator('[name="phases"]').select_option("1")
            await form.get_by_role("button", name="Save connector").click()
            await expect(form.locator('[data-field="max_current_a"]')).to_contain_text("greater than 0")
            await expect(form.locator('[name="phases"]')).to_have_value("1")  # kept for correcting
            await expect(form.locator('[data-field="phases"]')).to_have_count(0)

            await form.locator('[name="max_current_a"]').fill("16")
            await form.locator('[name="min_current_a"]').fill("8")
            await form.get_by_role("button", name="Save connector").click()
            await expect(page.get_by_role("status")).to_have_text("Saved.")
            row = page.locator('tr[data-connector="1"]')
            await expect(row.locator(".max-current")).to_have_text("16.0 A")
            await expect(row.locator(".min-current")).to_have_text("8.0 A")
            await expect(row.locator(".phases")).to_have_text("1")
            (connector,) = [
                c for c in (await charge_point(service, "CP6"))["connectors"] if c["connector_id"] == 1
            ]
            assert (connector["phases"], connector["max_current_a"], connector["min_current_a"]) == (
                1,
                16.0,
                8.0,
            )
            assert connector["nominal_voltage_v"] == 230.0  # left empty: unchanged
