"""Two fences against outside requests: the browser tests' guard (a page that asks for anything outside
loopback fails the test) and the console's Content-Security-Policy (the browser does not even ask)."""

import pytest

from tests.console.browser import chromium
from tests.console.helpers import root
from tests.e2e.service import running_service

pytestmark = pytest.mark.anyio

OUTSIDE = "https://cdn.example.org/x.js"


async def load_a_page_that_reaches_out(base_url: str) -> None:
    async with chromium(base_url) as browser:
        page = await browser.context.new_page()
        async with page.expect_event("requestfailed") as failed:
            await page.set_content(f'<script src="{OUTSIDE}"></script>')
        assert (await failed.value).url == OUTSIDE  # refused: it never left the machine
        assert browser.foreign == [OUTSIDE]


async def test_a_request_leaving_loopback_is_refused_and_fails_the_test(migrated_url: str) -> None:
    async with running_service(migrated_url) as service:
        with pytest.raises(AssertionError, match=r"requests left the service: \['https://cdn\.example"):
            await load_a_page_that_reaches_out(root(service))


async def test_a_console_page_lets_the_browser_load_nothing_from_outside(migrated_url: str) -> None:
    async with running_service(migrated_url) as service, chromium(root(service)) as browser:
        page = await browser.open("/login")
        async with page.expect_event("requestfailed") as failed:
            await page.set_content(f'<script src="{OUTSIDE}"></script>')
        assert (await failed.value).url == OUTSIDE
        assert browser.foreign == []  # blocked by the page's policy before any request was made
