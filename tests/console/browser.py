"""A real Chromium (Debian's /usr/bin/chromium) driven by Playwright, that refuses and records every request
leaving loopback: a console page or asset that reaches out to a CDN fails the test."""

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Browser as Chromium
from playwright.async_api import BrowserContext, Page, Route, async_playwright, expect

CHROMIUM = Path("/usr/bin/chromium")
INSTALLED = CHROMIUM.exists()
TIMEOUT_MS = 20_000  # what a page may take on a loaded 2-core machine; the tests wait for conditions
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}


@dataclass
class Browser:
    chromium: Chromium
    base_url: str
    foreign: list[str] = field(default_factory=list)  # requests refused: not to loopback
    contexts: list[BrowserContext] = field(default_factory=list)

    @property
    def context(self) -> BrowserContext:
        return self.contexts[0]

    async def open(self, path: str) -> Page:
        page = await self.context.new_page()
        await page.goto(f"{self.base_url}{path}")
        return page

    async def another_person(self) -> BrowserContext:
        """A context of its own (cookies apart: another person's browser), guarded like the first."""
        context = await self.chromium.new_context()
        context.set_default_timeout(TIMEOUT_MS)
        await context.route("**/*", self._guard)
        self.contexts.append(context)
        return context

    async def _guard(self, route: Route) -> None:
        url = route.request.url
        if urlsplit(url).scheme in ("data", "blob") or urlsplit(url).hostname in LOOPBACK:
            await route.continue_()
        else:
            self.foreign.append(url)
            await route.abort()


@contextlib.asynccontextmanager
async def chromium(base_url: str) -> AsyncIterator[Browser]:
    """A fresh browser context on `base_url`; after the block, no request may have left loopback."""
    if not INSTALLED:
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs it (apt-get install -y chromium)")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM))
        expect.set_options(timeout=TIMEOUT_MS)
        session = Browser(browser, base_url)
        await session.another_person()
        try:
            yield session
        finally:
            await browser.close()
        assert session.foreign == [], f"requests left the service: {session.foreign}"
