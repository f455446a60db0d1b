"""The console in Chromium against the whole service: log in with an API key, the home page's counts, the
charge-point list and page, log out; a grid operator's key sees its own sites only. Data comes in through
the real API and a charge point on a real OCPP WebSocket; no page may request anything outside loopback."""

import pytest
from ocpp.v16 import call
from playwright.async_api import expect

from app.domain.enums import Role
from tests.console.browser import chromium
from tests.console.helpers import add_site, booted_charge_point, log_in, root
from tests.e2e.service import ADMIN_TOKEN, running_service
from tests.gateway.helpers import connect_charge_point

pytestmark = pytest.mark.anyio


async def test_an_operator_logs_in_sees_the_fleet_and_logs_out(migrated_url: str) -> None:
    async with running_service(migrated_url) as service:
        site_id = await add_site(service, "Depot")
        async with booted_charge_point(service, "CP1", site_id), chromium(root(service)) as browser:
            page = await browser.open("/")
            await log_in(page, "sc_not_a_key")
            await expect(page.get_by_role("alert")).to_have_text("Unknown or revoked API key.")
            await log_in(page, ADMIN_TOKEN)

            await expect(page.get_by_role("heading", name="Overview")).to_be_visible()
            counts = {
                "charge-points": "1",
                "connected": "1",
                "pending": "0",
                "offline": "0",
                "connectors-Available": "1",
                "heartbeats-today": "1",
                "active-transactions": "0",
            }
            for name, value in counts.items():
                await expect(page.locator(f'[data-count="{name}"]')).to_have_text(value)
            await expect(page.locator(f'tr[data-site="{site_id}"]')).to_contain_text("50.0 kW")

            await page.get_by_role("link", name="Charge points").click()
            row = page.locator('tr[data-charge-point="CP1"]')
            await expect(row.locator(".state")).to_have_text("connected")
            await expect(row).to_contain_text("1: Available")
            await page.get_by_label("State").select_option("offline")
            await page.get_by_role("button", name="Filter").click()
            await expect(page.get_by_text("No charge point matches.")).to_be_visible()
            await page.get_by_label("State").select_option("connected")
            await page.get_by_label("Search").fill("cp1 b")  # the description, any case
            await page.get_by_role("button", name="Filter").click()
            await row.get_by_role("link", name="CP1").click()

            await expect(page.get_by_role("heading", name="Charge point CP1")).to_be_visible()
            await expect(page.locator('tr[data-connector="1"] .status')).to_have_text("Available")
            await expect(page.locator("table.boots")).to_contain_text("Wallbox-22")
            await expect(page.get_by_text(f"{service.ocpp_url}/CP1")).to_be_visible()
            await expect(page.get_by_role("region", name="Connection")).to_contain_text(
                f"smartcharge simulate --id CP1 --url {service.ocpp_url} --session id tag"
            )
            await expect(page.get_by_role("region", name="Connection")).to_contain_text(
                "0 or above: the global rules"
            )
            await expect(page.get_by_role("link", name="Depot")).to_be_visible()

            await page.get_by_role("button", name="Log out").click()
            await expect(page.get_by_role("heading", name="Log in to the console")).to_be_visible()
            await page.goto(f"{browser.base_url}/charge-points/CP1")
            await expect(page.get_by_role("heading", name="Log in to the console")).to_be_visible()
            await log_in(page, ADMIN_TOKEN)  # and back where it was going
            await expect(page.get_by_role("heading", name="Charge point CP1")).to_be_visible()


async def test_a_grid_operator_sees_only_its_own_sites_and_their_charge_points(migrated_url: str) -> None:
    async with running_service(migrated_url) as service:
        depot = await add_site(service, "Depot")
        own = await add_site(service, "Feeder 7", fallback_limit_kw=22.0)
        response = await service.api.post(
            "/api-keys", json={"role": Role.grid_operator.value, "name": "DSO north", "site_ids": [own]}
        )
        assert response.status_code == 201, response.text
        key = response.json()["token"]
        async with booted_charge_point(service, "CP1", depot), chromium(root(service)) as browser:
            page = await browser.open("/")
            await log_in(page, key)
            await expect(page.locator(".role")).to_have_text("grid_operator")
            await expect(page.locator('[data-count="charge-points"]')).to_have_text("0")
            await expect(page.locator(f'tr[data-site="{own}"]')).to_contain_text("22.0 kW")
            await expect(page.locator(f'tr[data-site="{depot}"]')).to_have_count(0)

            await page.get_by_role("link", name="Charge points").click()
            await expect(page.get_by_text("No charge point matches.")).to_be_visible()
            await page.goto(f"{browser.base_url}/charge-points/CP1")
            await expect(page.get_by_text("Charge point 'CP1' is not registered.")).to_be_visible()
            await page.goto(f"{browser.base_url}/sites/{depot}")
            await expect(page.get_by_text(f"Site {depot} not found.")).to_be_visible()
            await page.goto(f"{browser.base_url}/sites/{own}")
            await expect(page.get_by_role("heading", name="Site Feeder 7")).to_be_visible()


async def test_an_unknown_charge_point_waits_pending_until_an_operator_accepts_it(migrated_url: str) -> None:
    async with running_service(migrated_url, unknown_charge_points="pending") as service:
        operator = await service.api.post("/api-keys", json={"role": Role.operator.value, "name": "ops"})
        async with (
            connect_charge_point(service.app.state.gateway, "NEW1") as client,
            chromium(root(service)) as browser,
        ):
            boot = call.BootNotification(charge_point_model="Wallbox-22", charge_point_vendor="ACME")
            assert (await client.call(boot)).status == "Pending"
            page = await browser.open("/")
            await log_in(page, operator.json()["token"])
            await expect(page.locator('[data-count="pending"]')).to_have_text("1")
            await page.get_by_role("link", name="Charge points").click()
            await page.get_by_label("State").select_option("pending")
            await page.get_by_role("button", name="Filter").click()
            await page.get_by_role("link", name="NEW1").click()
            await expect(page.get_by_text("It is waiting for an operator")).to_be_visible()
            await page.get_by_label("Registration").select_option("Accepted")
            await page.get_by_role("button", name="Save registration").click()
            await expect(page.locator("p.state")).to_contain_text("registration Accepted")
            assert (await client.call(boot)).status == "Accepted"
            await page.get_by_role("link", name="Home").click()
            await expect(page.locator('[data-count="pending"]')).to_have_text("0")
