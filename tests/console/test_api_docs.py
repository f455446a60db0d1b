"""`/docs` and `/redoc` work offline: every asset comes from the service itself, checked in Chromium."""

import re

import httpx
import pytest
from playwright.async_api import expect

from tests.console.browser import chromium
from tests.e2e.service import running_service

pytestmark = pytest.mark.anyio


def root(api: httpx.AsyncClient) -> str:
    return str(api.base_url.copy_with(path="")).rstrip("/")


async def test_the_documentation_pages_name_no_outside_url_and_their_assets_load(migrated_url: str) -> None:
    async with running_service(migrated_url) as service, httpx.AsyncClient(base_url=root(service.api)) as web:
        for path in ("/docs", "/redoc"):
            page = await web.get(path)
            assert page.status_code == 200
            assert re.findall(r"https?://", page.text) == []
            assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
            assert assets, page.text
            for asset in assets:
                loaded = await web.get(asset)
                assert loaded.status_code == 200, asset
                assert len(loaded.content) > 1000, asset


async def test_swagger_ui_and_redoc_render_in_chromium_without_leaving_the_service(migrated_url: str) -> None:
    async with running_service(migrated_url) as service, chromium(root(service.api)) as browser:
        swagger = await browser.open("/docs")
        await expect(swagger.locator(".swagger-ui .info .title")).to_contain_text("smartcharge")
        await expect(swagger.get_by_text("/api/v1/charge-points", exact=True).first).to_be_visible()
        redoc = await browser.open("/redoc")
        # ReDoc lays out the whole document before it shows any of it: slow on a loaded machine.
        await expect(redoc.locator("h1").first).to_contain_text("smartcharge", timeout=90_000)
        await expect(redoc.get_by_text("List charge points").first).to_be_attached()
