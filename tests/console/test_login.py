"""Log-in over real HTTP: the session cookie's flags, CSRF on the forms, the lock-out after repeated
failures, a revoked key ending its sessions, and a page without a session sending to the log-in form."""

import re

import httpx
import pytest

from tests.console.helpers import root
from tests.e2e.service import ADMIN_TOKEN, running_service

pytestmark = pytest.mark.anyio


async def login_form(web: httpx.AsyncClient) -> str:
    """The CSRF token of a fresh log-in form."""
    page = await web.get("/login")
    assert page.status_code == 200
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found is not None
    return found.group(1)


async def log_in(web: httpx.AsyncClient, key: str) -> httpx.Response:
    return await web.post("/login", data={"api_key": key, "csrf": await login_form(web), "next": "/sites"})


async def test_the_session_cookie_is_http_only_and_lax_a_revoked_key_ends_it(migrated_url: str) -> None:
    async with running_service(migrated_url) as service, httpx.AsyncClient(base_url=root(service)) as web:
        anonymous = await web.get("/charge-points?search=x")
        assert anonymous.status_code == 303
        assert anonymous.headers["location"] == "/login?next=%2Fcharge-points%3Fsearch%3Dx"
        fragment = await web.get("/sites/1/now", headers={"HX-Request": "true"})
        assert fragment.status_code == 401
        assert fragment.headers["HX-Redirect"] == "/login?next=%2Fsites%2F1%2Fnow"

        created = await service.api.post("/api-keys", json={"role": "analyst", "name": "analyst"})
        key, key_id = created.json()["token"], created.json()["id"]
        answer = await log_in(web, key)
        assert (answer.status_code, answer.headers["location"]) == (303, "/sites")
        cookies = answer.headers.get_list("set-cookie")
        cookie = next(c for c in cookies if c.startswith("smartcharge_console="))
        assert "HttpOnly" in cookie
        assert "SameSite=lax" in cookie
        assert key not in cookie
        assert (await web.get("/sites")).status_code == 200
        assert "content-security-policy" in (await web.get("/sites")).headers

        assert (await service.api.delete(f"/api-keys/{key_id}")).status_code in (200, 204)
        assert (await web.get("/sites")).status_code == 303


async def test_forms_without_their_csrf_token_are_refused(migrated_url: str) -> None:
    async with running_service(migrated_url) as service, httpx.AsyncClient(base_url=root(service)) as web:
        stale = await web.post("/login", data={"api_key": ADMIN_TOKEN, "csrf": "forged", "next": "/"})
        assert stale.status_code == 400
        assert "The form had expired" in stale.text
        assert (await log_in(web, ADMIN_TOKEN)).status_code == 303
        forged = await web.post("/logout", data={"csrf": "forged"})
        assert forged.status_code == 403
        assert (await web.get("/")).status_code == 200  # still logged in
        token = re.search(r'name="csrf" value="([^"]+)"', (await web.get("/")).text)
        assert token is not None
        assert (await web.post("/logout", data={"csrf": token.group(1)})).status_code == 303
        assert (await web.get("/")).status_code == 303


async def test_repeated_failed_log_ins_lock_the_address_out(migrated_url: str) -> None:
    async with running_service(migrated_url) as service, httpx.AsyncClient(base_url=root(service)) as web:
        for _ in range(5):
            refused = await log_in(web, "sc_wrong")
            assert refused.status_code == 401
            assert "Unknown or revoked API key." in refused.text
        locked = await log_in(web, ADMIN_TOKEN)
        assert locked.status_code == 429
        assert "Too many failed log-ins" in locked.text
        assert "smartcharge_console=" not in locked.headers.get("set-cookie", "")


async def test_the_log_in_form_sends_only_to_paths_of_the_service(migrated_url: str) -> None:
    async with running_service(migrated_url) as service, httpx.AsyncClient(base_url=root(service)) as web:
        for target in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
            answer = await web.post(
                "/login", data={"api_key": ADMIN_TOKEN, "csrf": await login_form(web), "next": target}
            )
            assert (answer.status_code, answer.headers["location"]) == (303, "/")
