"""Console users log in with a username and a password: the session lives in the database (only a digest of
the cookie's token), so it survives a restart of the service; a disabled user or a new password ends it;
wrong passwords count towards the lock-out. In Chromium: a grid operator's user sees its own sites only."""

import hashlib
import re

import httpx
import pytest
from playwright.async_api import expect
from sqlalchemy import create_engine, text

from app.db.engine import sync_url
from app.domain.enums import Role
from app.services.users import disable_user, hashed, set_password
from tests.console.browser import chromium
from tests.console.helpers import add_site, add_user, booted_charge_point, log_in_as, root
from tests.e2e.service import running_service

pytestmark = pytest.mark.anyio

PASSWORD = "correct horse battery"


async def log_in(web: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    form = await web.get("/login")
    found = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert found is not None
    fields = {"username": username, "password": password, "csrf": found.group(1), "next": "/sites"}
    return await web.post("/login", data=fields)


def stored_sessions(database_url: str) -> list[str]:
    engine = create_engine(sync_url(database_url))
    try:
        with engine.connect() as connection:
            return [row[0] for row in connection.execute(text("SELECT id FROM console_session"))]
    finally:
        engine.dispose()


async def test_a_users_session_is_stored_as_a_digest_and_survives_a_restart(migrated_url: str) -> None:
    async with running_service(migrated_url) as service, httpx.AsyncClient(base_url=root(service)) as web:
        await add_user(service, "alice", PASSWORD, Role.operator)
        refused = await log_in(web, "alice", "wrong password!")
        assert refused.status_code == 401
        assert "Wrong username or password." in refused.text
        assert (await log_in(web, "nobody", PASSWORD)).status_code == 401
        answer = await log_in(web, "Alice", PASSWORD)
        assert (answer.status_code, answer.headers["location"]) == (303, "/sites")
        cookie = next(
            c for c in answer.headers.get_list("set-cookie") if c.startswith("smartcharge_console=")
        )
        assert "HttpOnly" in cookie
        assert "SameSite=lax" in cookie
        assert "Secure" not in cookie  # plain HTTP here; under TLS the cookie is Secure
        token = web.cookies["smartcharge_console"]
        assert stored_sessions(migrated_url) == [hashlib.sha256(token.encode()).hexdigest()]
        assert (await web.get("/sites")).status_code == 200
    async with (
        running_service(migrated_url) as again,
        httpx.AsyncClient(base_url=root(again), cookies={"smartcharge_console": token}) as web,
    ):
        page = await web.get("/")
        assert page.status_code == 200
        assert "alice" in page.text
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert csrf is not None
        assert (await web.post("/logout", data={"csrf": csrf.group(1)})).status_code == 303
        assert stored_sessions(migrated_url) == []
        web.cookies.set("smartcharge_console", token)  # the token logged out is of no use any more
        assert (await web.get("/")).status_code == 303


async def test_a_disabled_user_or_a_new_password_ends_its_sessions(migrated_url: str) -> None:
    async with running_service(migrated_url) as service, httpx.AsyncClient(base_url=root(service)) as web:
        user_id = await add_user(service, "bob", PASSWORD, Role.analyst)
        assert (await log_in(web, "bob", PASSWORD)).status_code == 303
        new_hash = await hashed("another password")
        async with service.app.state.store.unit_of_work() as uow:
            await set_password(uow, user_id, new_hash)
        assert (await web.get("/sites")).status_code == 303
        assert (await log_in(web, "bob", PASSWORD)).status_code == 401
        assert (await log_in(web, "bob", "another password")).status_code == 303
        assert (await web.get("/sites")).status_code == 200
        async with service.app.state.store.unit_of_work() as uow:
            await disable_user(uow, user_id)
        assert (await web.get("/sites")).status_code == 303
        assert (await log_in(web, "bob", "another password")).status_code == 401


async def test_wrong_passwords_lock_the_address_out(migrated_url: str) -> None:
    async with running_service(migrated_url) as service, httpx.AsyncClient(base_url=root(service)) as web:
        await add_user(service, "carol", PASSWORD, Role.operator)
        for _ in range(5):
            assert (await log_in(web, "carol", "not the password")).status_code == 401
        locked = await log_in(web, "carol", PASSWORD)
        assert locked.status_code == 429
        assert "Too many failed log-ins" in locked.text
        assert "smartcharge_console" not in web.cookies


async def test_a_grid_operator_user_logs_in_and_sees_its_own_sites_after_a_restart(migrated_url: str) -> None:
    async with chromium("http://127.0.0.1") as browser:
        page = await browser.context.new_page()
        async with running_service(migrated_url) as service:
            depot = await add_site(service, "Depot")
            own = await add_site(service, "Feeder 7", fallback_limit_kw=22.0)
            await add_user(service, "dso-north", PASSWORD, Role.grid_operator, site_ids=[own])
            async with booted_charge_point(service, "CP1", depot):
                await page.goto(f"{root(service)}/sites")
                await log_in_as(page, "dso-north", "wrong password!")
                await expect(page.get_by_role("alert")).to_have_text("Wrong username or password.")
                await expect(page.get_by_role("textbox", name="Username")).to_have_value("dso-north")
                await log_in_as(page, "dso-north", PASSWORD)
                await expect(page.get_by_role("heading", name="Sites")).to_be_visible()
                await expect(page.locator(".role")).to_have_text("grid_operator")
                await expect(page.locator("header .who")).to_contain_text("dso-north")
                await expect(page.get_by_role("link", name="Feeder 7")).to_be_visible()
                await expect(page.get_by_role("link", name="Depot")).to_have_count(0)
        async with running_service(migrated_url) as again:  # the same database, a new process and port
            await page.goto(f"{root(again)}/")
            await expect(page.get_by_role("heading", name="Overview")).to_be_visible()
            await expect(page.locator('[data-count="charge-points"]')).to_have_text("0")
            await page.goto(f"{root(again)}/charge-points/CP1")
            await expect(page.get_by_text("Charge point 'CP1' is not registered.")).to_be_visible()
