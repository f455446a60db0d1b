"""Screenshots of the console's main pages for docs/console.md: `python -m tests.console.screenshots DIR`.
The whole service on a temporary SQLite database, a site with two charge points on real WebSockets, one
charging; Chromium as in the browser tests."""

import asyncio
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from ocpp.v16 import call
from playwright.async_api import expect
from sqlalchemy import create_engine

from app.db.engine import sync_url
from app.db.tables import metadata
from tests.console.browser import chromium
from tests.console.helpers import add_site, booted_charge_point, log_in, root
from tests.e2e.service import ADMIN_TOKEN, running_service


def empty_database() -> str:
    url = f"sqlite:///{tempfile.mkdtemp()}/screens.db"
    engine = create_engine(sync_url(url))
    metadata.create_all(engine)
    engine.dispose()
    return url


async def main(out: Path, url: str) -> None:
    async with running_service(url) as service:
        site_id = await add_site(service, "Depot", fallback_limit_kw=22.0)
        await service.api.post("/id-tags", json={"id_tag": "TAG1"})
        async with (
            booted_charge_point(service, "CP1", site_id) as cp1,
            booted_charge_point(service, "CP2", site_id),
            chromium(root(service)) as browser,
        ):
            now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
            started = await cp1.call(
                call.StartTransaction(connector_id=1, id_tag="TAG1", meter_start=0, timestamp=now)
            )
            sampled = [{"value": "11.0", "measurand": "Power.Active.Import", "unit": "kW"}]
            await cp1.call(
                call.MeterValues(
                    connector_id=1,
                    transaction_id=started.transaction_id,
                    meter_value=[{"timestamp": now, "sampledValue": sampled}],
                )
            )
            page = await browser.open("/")
            await page.set_viewport_size({"width": 1280, "height": 900})
            await page.screenshot(path=out / "console-login.png")
            await log_in(page, ADMIN_TOKEN)
            await expect(page.get_by_role("heading", name="Overview")).to_be_visible()
            await page.screenshot(path=out / "console-home.png", full_page=True)
            await page.goto(f"{browser.base_url}/charge-points/CP1")
            await page.screenshot(path=out / "console-charge-point.png", full_page=True)
            await page.goto(f"{browser.base_url}/sites/{site_id}")
            await expect(page.locator("#site-chart")).to_have_attribute("data-latest-measured-kw", "11.0")
            await page.screenshot(path=out / "console-site.png", full_page=True)


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/img")
    target.mkdir(parents=True, exist_ok=True)
    asyncio.run(main(target, empty_database()))
