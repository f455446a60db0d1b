"""Drivers, deleting id tags and a user's own password, in Chromium against the whole service: an operator
adds a driver (a refusal shown at its field, what was typed kept), gives it tags, finds it by a tag, moves a
tag to another driver from the tag's page and deletes a driver (its tags stay); deleting a tag in a
transaction is refused with the API's words, a free one goes; a user changes its password (the current one
required) and its other browser's session ends while this one goes on, and a password changed meanwhile
is not overwritten."""

from datetime import UTC, datetime

import pytest
from ocpp.v16 import call
from playwright.async_api import expect

from app.db.engine import Database
from app.db.store import SqlStore
from app.domain.bus import EventBus
from app.domain.enums import Role
from app.services.console_sessions import open_session, resume_session, session_id
from app.services.errors import Conflict
from app.services.users import (
    change_own_password,
    create_user,
    hashed,
    password_hash_of,
    set_password,
    user_principal,
)
from tests.console.browser import chromium
from tests.console.helpers import add_site, add_user, booted_charge_point, log_in_as, root
from tests.e2e.service import running_service

pytestmark = pytest.mark.anyio

PASSWORD = "correct horse battery"


async def test_an_operator_manages_drivers_and_their_tags(migrated_url: str) -> None:
    async with running_service(migrated_url) as service:
        for tag in ("CARD-1", "CARD-2", "VAN-7"):
            assert (await service.api.post("/id-tags", json={"id_tag": tag})).status_code == 201
        await add_user(service, "olga", PASSWORD, Role.operator)
        await add_user(service, "dso", PASSWORD, Role.grid_operator)
        async with chromium(root(service)) as browser:
            page = await browser.open("/drivers")
            await log_in_as(page, "olga", PASSWORD)
            await expect(page.get_by_role("heading", name="Drivers", exact=True)).to_be_visible()
            await expect(page.get_by_text("No driver matches.")).to_be_visible()

            add = page.locator('form[action="/drivers"]')
            await add.get_by_label("Name *").fill("Alice Martin")
            await add.get_by_label("Phone").fill("call me maybe")
            await add.get_by_label("Id tags").fill("CARD-1\nNOPE")
            await add.get_by_role("button", name="Add driver").click()
            await expect(page.locator('[data-field="phone"]')).to_contain_text("should match pattern")
            await add.get_by_label("Phone").fill("+31 6 1234 5678")
            await add.get_by_role("button", name="Add driver").click()
            await expect(page.locator('[data-field="id_tags"]')).to_have_text("id tag 'NOPE' does not exist")
            await expect(add.get_by_label("Name *")).to_have_value("Alice Martin")  # what was typed stays
            assert (await service.api.get("/drivers")).json()["total"] == 0
            await add.get_by_label("Id tags").fill("CARD-1, CARD-2")
            await add.get_by_label("E-mail").fill("alice@example.org")
            await add.get_by_role("button", name="Add driver").click()
            await expect(page.get_by_role("heading", name="Driver Alice Martin")).to_be_visible()
            await expect(page.locator("dl.driver .tags")).to_have_text("CARD-1, CARD-2")
            (alice,) = (await service.api.get("/drivers")).json()["items"]
            assert (alice["phone"], alice["email"], alice["id_tags"]) == (
                "+31 6 1234 5678",
                "alice@example.org",
                ["CARD-1", "CARD-2"],
            )

            await page.get_by_label("Note").fill("night shift")
            await page.get_by_label("Id tags").fill("CARD-2")
            await page.get_by_role("button", name="Save driver").click()
            await expect(page.get_by_role("status")).to_have_text("Saved.")
            await expect(page.locator("dl.driver .tags")).to_have_text("CARD-2")
            assert (await service.api.get("/id-tags/CARD-1")).json()["driver_id"] is None

            await page.get_by_role("link", name="all drivers").click()
            add = page.locator('form[action="/drivers"]')
            await add.get_by_label("Name *").fill("Bob")
            await add.get_by_role("button", name="Add driver").click()
            await expect(page.get_by_role("heading", name="Driver Bob")).to_be_visible()
            bob = next(d for d in (await service.api.get("/drivers")).json()["items"] if d["name"] == "Bob")

            await page.goto(f"{browser.base_url}/id-tags/CARD-2")
            await expect(page.locator("dl.id-tag .owner")).to_have_text("Alice Martin")
            await page.get_by_label("Owner (driver)").select_option(label="Bob")
            await page.get_by_role("button", name="Save id tag").click()
            await expect(page.get_by_role("status")).to_have_text("Saved.")
            await page.locator("dl.id-tag .owner").get_by_role("link", name="Bob").click()
            await expect(page.locator("dl.driver .tags")).to_have_text("CARD-2")

            await page.locator("header nav").get_by_role("link", name="Drivers").click()
            await page.get_by_label("Search").fill("card-2")
            await page.get_by_role("button", name="Filter").click()
            await expect(page.locator("table.drivers tbody tr")).to_have_count(1)
            await expect(page.locator(f'tr[data-driver="{bob["id"]}"]')).to_contain_text("CARD-2")

            await page.goto(f"{browser.base_url}/drivers/{bob['id']}")
            await page.get_by_role("button", name="Delete driver").click()
            await expect(page.get_by_role("status")).to_contain_text("Driver Bob deleted")
            await expect(page.locator(f'tr[data-driver="{bob["id"]}"]')).to_have_count(0)
            assert (await service.api.get("/id-tags/CARD-2")).json()["driver_id"] is None

            dso = await (await browser.another_person()).new_page()
            await dso.goto(f"{browser.base_url}/drivers/{alice['id']}")
            await log_in_as(dso, "dso", PASSWORD)
            await expect(dso.get_by_text("Drivers are not shown to the grid_operator role.")).to_be_visible()
            await expect(dso.get_by_text("Alice")).to_have_count(0)
            await expect(dso.locator("header nav").get_by_role("link", name="Drivers")).to_have_count(0)


async def test_deleting_an_id_tag_follows_the_api(migrated_url: str) -> None:
    async with running_service(migrated_url) as service:
        site_id = await add_site(service, "Depot")
        for tag in ("BUSY", "FREE"):
            assert (await service.api.post("/id-tags", json={"id_tag": tag})).status_code == 201
        await add_user(service, "olga", PASSWORD, Role.operator)
        async with booted_charge_point(service, "CP1", site_id) as client, chromium(root(service)) as browser:
            timestamp = datetime.now(UTC).isoformat().replace("+00:00", "Z")
            started = await client.call(
                call.StartTransaction(connector_id=1, id_tag="BUSY", meter_start=0, timestamp=timestamp)
            )
            assert started.id_tag_info["status"] == "Accepted"
            api_refusal = (await service.api.delete("/id-tags/BUSY")).json()["detail"]

            page = await browser.open("/id-tags/BUSY")
            await log_in_as(page, "olga", PASSWORD)
            await page.get_by_role("button", name="Delete id tag").click()
            await expect(page.get_by_role("alert")).to_have_text(f"Not deleted: {api_refusal}")
            assert (await service.api.get("/id-tags/BUSY")).status_code == 200

            await page.goto(f"{browser.base_url}/id-tags/FREE")
            await page.get_by_role("button", name="Delete id tag").click()
            await expect(page.get_by_role("status")).to_have_text("Id tag FREE deleted.")
            await expect(page.locator('tr[data-id-tag="FREE"]')).to_have_count(0)
            assert (await service.api.get("/id-tags/FREE")).status_code == 404


async def test_a_user_changes_its_own_password_and_its_other_sessions_end(migrated_url: str) -> None:
    async with running_service(migrated_url) as service:
        await add_user(service, "alice", PASSWORD, Role.analyst)
        async with chromium(root(service)) as browser:
            here = await browser.open("/")
            await log_in_as(here, "alice", PASSWORD)
            elsewhere = await (await browser.another_person()).new_page()
            await elsewhere.goto(f"{browser.base_url}/sites")
            await log_in_as(elsewhere, "alice", PASSWORD)
            await expect(elsewhere.get_by_role("heading", name="Sites")).to_be_visible()

            await here.locator("header").get_by_role("link", name="alice").click()
            await expect(here.get_by_role("heading", name="Your account")).to_be_visible()
            form = here.locator('form[action="/account/password"]')
            await form.get_by_label("Current password").fill("not my password")
            await form.get_by_label("New password (10").fill("a brand new passphrase")
            await form.get_by_label("New password again").fill("a brand new passphrase")
            await form.get_by_role("button", name="Change password").click()
            await expect(here.locator('[data-field="current"]')).to_have_text("wrong password")
            await form.get_by_label("Current password").fill(PASSWORD)
            await form.get_by_label("New password (10").fill("short")
            await form.get_by_label("New password again").fill("short")
            await form.get_by_role("button", name="Change password").click()
            await expect(here.locator('[data-field="password"]')).to_have_text("at least 10 characters")
            await form.get_by_label("Current password").fill(PASSWORD)
            await form.get_by_label("New password (10").fill("a brand new passphrase")
            await form.get_by_label("New password again").fill("a brand new passphrase")
            await form.get_by_role("button", name="Change password").click()
            await expect(here.get_by_role("status")).to_contain_text("Password changed")

            await here.goto(f"{browser.base_url}/sites")
            await expect(here.get_by_role("heading", name="Sites")).to_be_visible()  # this session goes on
            await elsewhere.reload()
            await expect(elsewhere.get_by_role("heading", name="Log in to the console")).to_be_visible()
            await log_in_as(elsewhere, "alice", PASSWORD)
            await expect(elsewhere.get_by_role("alert")).to_have_text("Wrong username or password.")
            await log_in_as(elsewhere, "alice", "a brand new passphrase")
            await expect(elsewhere.get_by_role("heading", name="Sites")).to_be_visible()


async def test_a_password_changed_meanwhile_is_not_overwritten(database: Database) -> None:
    """The current password is checked outside the unit of work that stores the new one: if the password
    changed in between (an admin set one), the change is refused and nothing is touched."""
    store = SqlStore(database, EventBus())
    first, admins, mine = (
        await hashed(PASSWORD),
        await hashed("set by an admin"),
        await hashed("my new one!!"),
    )
    now = datetime.now(UTC)
    async with store.unit_of_work() as uow:
        user = await create_user(uow, "alice", first, Role.operator)
        assert user.id is not None
        principal = user_principal(user)
        assert principal is not None
        tokens = [await open_session(uow, principal, now) for _ in range(3)]
    async with store.unit_of_work() as uow:
        checked = await password_hash_of(uow, user.id)
    async with store.unit_of_work() as uow:
        await set_password(uow, user.id, admins)  # meanwhile; ends every session
        tokens.append(await open_session(uow, principal, now))
    with pytest.raises(Conflict):
        async with store.unit_of_work() as uow:
            await change_own_password(uow, user.id, checked, mine, keep_session=session_id(tokens[-1]))
    async with store.unit_of_work() as uow:
        assert await password_hash_of(uow, user.id) == admins
        assert await resume_session(uow, tokens[-1], now) is not None
        tokens.append(await open_session(uow, principal, now))
        await change_own_password(uow, user.id, admins, mine, keep_session=session_id(tokens[-1]))
    async with store.unit_of_work() as uow:
        assert await password_hash_of(uow, user.id) == mine
        assert [await resume_session(uow, t, now) is not None for t in tokens] == [False] * 4 + [True]
