"""Reservations in Chromium against the whole service: a ReserveNow accepted by a charge point on a real
WebSocket is listed as active; its Cancel link opens the CancelReservation form filled in, and once the
charge point accepts, the list shows it cancelled. A grid operator is not shown reservations."""

from datetime import UTC, datetime, timedelta

import pytest
from playwright.async_api import expect

from app.domain.enums import Role
from tests.console.browser import chromium
from tests.console.helpers import add_site, add_user, booted_charge_point, log_in, log_in_as, root
from tests.e2e.service import ADMIN_TOKEN, running_service

pytestmark = pytest.mark.anyio


async def test_a_reservation_is_listed_and_cancelled_from_the_list(migrated_url: str) -> None:
    async with running_service(migrated_url) as service:
        site_id = await add_site(service, "Depot")
        for tag in ("TAG1", "TAG2"):
            assert (await service.api.post("/id-tags", json={"id_tag": tag})).status_code == 201
        await add_user(service, "dso", "correct horse battery", Role.grid_operator, site_ids=[site_id])
        async with booted_charge_point(service, "CP1", site_id) as client, chromium(root(service)) as browser:
            expiry = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
            payload = {"connectorId": 1, "idTag": "TAG1", "expiryDate": expiry}
            sent = await service.api.post(
                "/charge-points/CP1/commands",
                params={"wait": "true"},
                json={"action": "ReserveNow", "payload": payload},
            )
            assert sent.json()["status"] == "accepted", sent.text
            reservation_id = (await client.wait_for_call("ReserveNow"))["reservationId"]

            page = await browser.open("/reservations")
            await log_in(page, ADMIN_TOKEN)
            row = page.locator(f'tr[data-reservation="{reservation_id}"]')
            await expect(row.locator(".status")).to_have_text("accepted active")
            await page.get_by_label("Id tag").fill("TAG2")
            await page.get_by_role("button", name="Filter").click()
            await expect(page.get_by_text("No reservation matches.")).to_be_visible()
            await page.get_by_label("Id tag").fill("TAG1")
            await page.get_by_label("Status").select_option("active")
            await page.get_by_role("button", name="Filter").click()
            await row.get_by_role("link", name="Cancel…").click()

            await expect(page.locator('select[name="charge_point"]')).to_have_value("CP1")
            await expect(page.locator('[name="reservationId"]')).to_have_value(str(reservation_id))
            await page.get_by_role("button", name="Send CancelReservation").click()
            await expect(page.locator("[data-status]")).to_have_attribute("data-status", "accepted")
            assert (await client.wait_for_call("CancelReservation"))["reservationId"] == reservation_id

            await page.locator("header nav").get_by_role("link", name="Reservations").click()
            await expect(row.locator(".status")).to_have_text("cancelled")
            await expect(row.get_by_role("link", name="Cancel…")).to_have_count(0)

            other = await (await browser.another_person()).new_page()
            await other.goto(f"{browser.base_url}/reservations")
            await log_in_as(other, "dso", "correct horse battery")
            await expect(other.get_by_text("they are not shown to the grid_operator role")).to_be_visible()
            await expect(other.locator("header nav").get_by_role("link", name="Reservations")).to_have_count(
                0
            )
