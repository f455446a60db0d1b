"""Id tags and console users in Chromium against the whole service: an operator adds id tags (a refusal
shown next to its field), searches, blocks one, and a charge point on a real WebSocket is then refused that
tag; a grid operator is not shown id tags; an admin adds a user who logs in, and disabling it logs it out."""

import pytest
from ocpp.v16 import call
from playwright.async_api import expect

from app.domain.enums import Role
from tests.console.browser import chromium
from tests.console.helpers import add_site, add_user, booted_charge_point, log_in_as, root
from tests.e2e.service import running_service

pytestmark = pytest.mark.anyio

PASSWORD = "correct horse battery"


async def test_an_operator_adds_and_blocks_id_tags_and_the_charge_point_obeys(migrated_url: str) -> None:
    async with running_service(migrated_url) as service:
        site_id = await add_site(service, "Depot")
        await add_user(service, "olga", PASSWORD, Role.operator)
        async with booted_charge_point(service, "CP1", site_id) as client, chromium(root(service)) as browser:
            page = await browser.open("/id-tags")
            await log_in_as(page, "olga", PASSWORD)
            await expect(page.get_by_role("heading", name="Id tags")).to_be_visible()
            await expect(page.get_by_text("No id tag matches.")).to_be_visible()

            add = page.locator('form[action="/id-tags"]')
            await add.get_by_label("Id tag *").fill("FLEET")
            await add.get_by_role("button", name="Add id tag").click()
            await expect(page.get_by_role("heading", name="Id tag FLEET")).to_be_visible()

            await page.get_by_role("link", name="all id tags").click()
            add = page.locator('form[action="/id-tags"]')
            await add.get_by_label("Id tag *").fill("CARD-7")
            await add.get_by_label("Parent id tag").fill("NOPE")
            await add.get_by_label("Max active transactions").fill("-1")
            await add.get_by_label("Note").fill("fleet van 7")
            await add.get_by_role("button", name="Add id tag").click()
            await expect(page.locator('[data-field="max_active_transactions"]')).to_contain_text(
                "greater than or equal to 0"
            )
            await add.get_by_label("Max active transactions").fill("2")
            await add.get_by_role("button", name="Add id tag").click()
            await expect(page.locator('[data-field="parent_id_tag"]')).to_have_text(
                "id tag 'NOPE' does not exist"
            )
            await expect(add.get_by_label("Note")).to_have_value("fleet van 7")  # what was typed stays
            await add.get_by_label("Parent id tag").fill("FLEET")
            await add.get_by_label("Expiry (UTC)").fill("2099-01-31T18:00")
            await add.get_by_role("button", name="Add id tag").click()
            await expect(page.get_by_role("heading", name="Id tag CARD-7")).to_be_visible()
            await expect(page.locator("dl.id-tag")).to_contain_text("2099-01-31 18:00:00 UTC")
            await expect(page.locator("dl.id-tag")).to_contain_text("0 of at most 2")

            assert (await client.call(call.Authorize(id_tag="CARD-7"))).id_tag_info["status"] == "Accepted"
            await page.get_by_label("Blocked").check()
            await page.get_by_role("button", name="Save id tag").click()
            await expect(page.get_by_role("status")).to_have_text("Saved.")
            await expect(page.locator("dl.id-tag .state")).to_have_text("blocked")
            assert (await client.call(call.Authorize(id_tag="CARD-7"))).id_tag_info["status"] == "Blocked"
            stored = (await service.api.get("/id-tags/CARD-7")).json()
            assert (stored["parent_id_tag"], stored["max_active_transactions"]) == ("FLEET", 2)
            assert (stored["expiry_date"], stored["note"], stored["blocked"]) == (
                "2099-01-31T18:00:00Z",
                "fleet van 7",
                True,
            )

            await page.locator("header nav").get_by_role("link", name="Id tags").click()
            await page.get_by_label("Search").fill("VAN")
            await page.get_by_role("button", name="Filter").click()
            await expect(page.locator("table.id-tags tbody tr")).to_have_count(1)
            await expect(page.locator('tr[data-id-tag="CARD-7"] .state')).to_have_text("blocked")
            await page.get_by_label("Search").fill("")
            await page.get_by_label("State").select_option("blocked")
            await page.get_by_role("button", name="Filter").click()
            await expect(page.locator("table.id-tags tbody tr")).to_have_count(1)


async def test_id_tags_are_hidden_from_a_grid_operator_and_read_only_for_an_analyst(
    migrated_url: str,
) -> None:
    async with running_service(migrated_url) as service:
        site_id = await add_site(service, "Feeder 7")
        assert (await service.api.post("/id-tags", json={"id_tag": "TAG1"})).status_code == 201
        await add_user(service, "dso", PASSWORD, Role.grid_operator, site_ids=[site_id])
        await add_user(service, "ana", PASSWORD, Role.analyst)
        async with chromium(root(service)) as browser:
            page = await browser.open("/")
            await log_in_as(page, "dso", PASSWORD)
            await expect(page.get_by_role("heading", name="Overview")).to_be_visible()
            await expect(page.locator("header nav").get_by_role("link", name="Id tags")).to_have_count(0)
            await page.goto(f"{browser.base_url}/id-tags/TAG1")
            await expect(
                page.get_by_text("Drivers' id tags are not shown to the grid_operator role.")
            ).to_be_visible()
            await expect(page.get_by_text("TAG1")).to_have_count(0)
            await page.get_by_role("button", name="Log out").click()

            await page.goto(f"{browser.base_url}/id-tags")
            await log_in_as(page, "ana", PASSWORD)
            await expect(page.locator('tr[data-id-tag="TAG1"]')).to_be_visible()
            await expect(page.get_by_role("button", name="Add id tag")).to_have_count(0)
            await page.goto(f"{browser.base_url}/users")
            await expect(page.get_by_text("Console users are managed by admins")).to_be_visible()


async def test_an_admin_adds_a_user_who_logs_in_until_disabled(migrated_url: str) -> None:
    async with running_service(migrated_url) as service:
        await add_user(service, "root", PASSWORD, Role.admin)
        async with chromium(root(service)) as browser:
            admin = await browser.open("/users")
            await log_in_as(admin, "root", PASSWORD)
            await expect(admin.get_by_role("heading", name="Console users")).to_be_visible()
            add = admin.locator('form[action="/users"]')
            await add.get_by_label("Username").fill("Oscar")
            await add.get_by_label("Password").fill("too short")
            await add.get_by_label("Role").select_option("operator")
            await add.get_by_role("button", name="Add user").click()
            await expect(admin.locator('[data-field="password"]')).to_have_text("at least 10 characters")
            await add.get_by_label("Password").fill("a long enough password")
            await add.get_by_role("button", name="Add user").click()
            await expect(admin.get_by_role("status")).to_have_text("User oscar added.")
            await expect(admin.locator('tr[data-user="oscar"]')).to_contain_text("operator")

            oscar = await (await browser.another_person()).new_page()
            await oscar.goto(f"{browser.base_url}/")
            await log_in_as(oscar, "oscar", "a long enough password")
            await expect(oscar.get_by_role("heading", name="Overview")).to_be_visible()
            await expect(oscar.locator("header nav").get_by_role("link", name="Users")).to_have_count(0)

            await admin.locator('tr[data-user="oscar"]').get_by_role("button", name="Disable").click()
            await expect(admin.get_by_role("status")).to_have_text("User oscar disabled.")
            await expect(admin.locator('tr[data-user="oscar"] .state')).to_have_text("disabled")
            await oscar.reload()
            await expect(oscar.get_by_role("heading", name="Log in to the console")).to_be_visible()
            await log_in_as(oscar, "oscar", "a long enough password")
            await expect(oscar.get_by_role("alert")).to_have_text("Wrong username or password.")
