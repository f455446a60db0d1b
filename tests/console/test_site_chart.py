"""The site page's live chart in Chromium: a charge point of the site reports its power over OCPP and the
chart and the interval's figures follow, without a reload; the finished transaction is then listed with
its energy."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from ocpp.v16 import call
from playwright.async_api import expect

from tests.console.browser import chromium
from tests.console.helpers import add_site, booted_charge_point, log_in, root
from tests.e2e.service import ADMIN_TOKEN, running_service
from tests.gateway.helpers import ClientChargePoint

pytestmark = pytest.mark.anyio

INTERVAL = timedelta(minutes=15)


def stamp(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


async def report_power(client: ClientChargePoint, transaction_id: int, at: datetime, power_kw: float) -> None:
    sampled = [{"value": str(power_kw), "measurand": "Power.Active.Import", "unit": "kW"}]
    await client.call(
        call.MeterValues(
            connector_id=1,
            transaction_id=transaction_id,
            meter_value=[{"timestamp": stamp(at), "sampledValue": sampled}],
        )
    )


def interval_of(at: datetime) -> int:
    return int(at.timestamp() // INTERVAL.total_seconds())


async def test_the_site_chart_follows_the_power_a_charge_point_reports(migrated_url: str) -> None:
    async with running_service(migrated_url) as service:
        site_id = await add_site(service, "Depot")
        assert (await service.api.post("/id-tags", json={"id_tag": "TAG1"})).status_code == 201
        async with booted_charge_point(service, "CP1", site_id) as client, chromium(root(service)) as browser:
            started = await client.call(
                call.StartTransaction(
                    connector_id=1, id_tag="TAG1", meter_start=0, timestamp=stamp(datetime.now(UTC))
                )
            )
            page = await browser.open(f"/sites/{site_id}")
            await log_in(page, ADMIN_TOKEN)
            await expect(page.get_by_role("heading", name="Site Depot")).to_be_visible()
            chart = page.locator("#site-chart")
            await expect(chart.locator("canvas")).to_be_visible()
            await expect(chart).to_have_attribute("data-points-measured", "0")
            await expect(chart.locator(".u-legend")).to_contain_text("Measured")
            await expect(page.locator('[data-now="limit"]')).to_have_text("50.0 kW")
            await expect(page.locator('[data-now="measured"]')).to_have_text("—")
            await page.evaluate("window.notReloaded = true")

            first = datetime.now(UTC)
            await report_power(client, started.transaction_id, first, 7.4)
            await expect(chart).to_have_attribute("data-latest-measured-kw", "7.4")
            await expect(chart).to_have_attribute("data-points-measured", "1")
            await expect(page.locator('[data-now="measured"]')).to_have_text("7.4 kW")

            second = first + timedelta(seconds=1)
            await report_power(client, started.transaction_id, second, 11.0)
            mean = "9.2" if interval_of(first) == interval_of(second) else "11.0"
            await expect(chart).to_have_attribute("data-latest-measured-kw", mean)
            await expect(page.locator('[data-now="measured"]')).to_have_text(f"{mean} kW")
            # The scheduler planned the transaction: the plan in force shows beside the measurement.
            await expect(page.locator('[data-now="planned"]')).to_have_text(re.compile(r"^\d+\.\d kW$"))
            assert await page.evaluate("window.notReloaded") is True

            stop = call.StopTransaction(
                meter_stop=1500, timestamp=stamp(datetime.now(UTC)), transaction_id=started.transaction_id
            )
            await client.call(stop)
            await page.get_by_role("link", name="Transactions").click()
            await page.get_by_label("State").select_option("finished")
            await page.get_by_label("Id tag").fill("TAG1")
            await page.get_by_role("button", name="Filter").click()
            row = page.locator(f'tr[data-transaction="{started.transaction_id}"]')
            await expect(row.locator(".energy")).to_have_text("1.50 kWh")
            await expect(page.get_by_text("1 transaction", exact=True)).to_be_visible()
