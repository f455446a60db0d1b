"""Transactions in Chromium against the whole service: a charge point on a real WebSocket starts a
transaction, reports energy, power, current per phase and SoC; the transaction's page plots them (and
follows a new sample while active) and lists the TxProfile the scheduler sent it; the list's CSV export is
the API's CSV; a grid operator sees no id tags."""

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from ocpp.v16 import call
from playwright.async_api import expect

from app.domain.enums import Role
from tests.console.browser import chromium
from tests.console.helpers import add_site, booted_charge_point, log_in, root
from tests.e2e.service import ADMIN_TOKEN, Service, running_service
from tests.gateway.helpers import ClientChargePoint

pytestmark = pytest.mark.anyio


def stamp(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


async def report(
    client: ClientChargePoint, transaction_id: int, at: datetime, energy_wh: int, soc: int
) -> None:
    sampled = [{"value": str(energy_wh), "measurand": "Energy.Active.Import.Register", "unit": "Wh"}]
    for phase, current_a in (("L1", 16.0), ("L2", 15.5), ("L3", 15.0)):
        sampled.append(
            {"value": str(current_a * 230), "measurand": "Power.Active.Import", "phase": phase, "unit": "W"}
        )
        sampled.append({"value": str(current_a), "measurand": "Current.Import", "phase": phase, "unit": "A"})
    sampled.append({"value": str(soc), "measurand": "SoC", "location": "EV", "unit": "Percent"})
    meter_value = [{"timestamp": stamp(at), "sampledValue": sampled}]
    await client.call(
        call.MeterValues(connector_id=1, transaction_id=transaction_id, meter_value=meter_value)
    )


async def profile_answered(service: Service, transaction_id: int) -> None:
    """Until the scheduler's SetChargingProfile for the transaction has its answer stored."""
    for _ in range(400):
        listed = await service.api.get("/commands", params={"action": "SetChargingProfile"})
        for command in listed.json()["items"]:
            profile = command["payload"]["csChargingProfiles"]
            if profile.get("transactionId") == transaction_id and command["status"] == "accepted":
                return
        await asyncio.sleep(0.05)
    raise AssertionError("no answered SetChargingProfile for the transaction")


async def test_a_transaction_page_plots_its_meter_values_and_lists_its_profiles(
    migrated_url: str, tmp_path: Path
) -> None:
    async with running_service(migrated_url) as service:
        site_id = await add_site(service, "Depot")
        assert (await service.api.post("/id-tags", json={"id_tag": "TAG1"})).status_code == 201
        dso = await service.api.post(
            "/api-keys", json={"role": Role.grid_operator.value, "name": "DSO", "site_ids": [site_id]}
        )
        async with booted_charge_point(service, "CP1", site_id) as client, chromium(root(service)) as browser:
            begin = datetime.now(UTC) - timedelta(minutes=3)
            started = await client.call(
                call.StartTransaction(connector_id=1, id_tag="TAG1", meter_start=1000, timestamp=stamp(begin))
            )
            tx = started.transaction_id
            for step, (energy_wh, soc) in enumerate(((1000, 40), (1100, 41), (1250, 42))):
                await report(client, tx, begin + timedelta(seconds=30 * step), energy_wh, soc)
            await profile_answered(service, tx)

            page = await browser.open("/transactions")
            await log_in(page, ADMIN_TOKEN)
            row = page.locator(f'tr[data-transaction="{tx}"]')
            await row.get_by_role("link", name=str(tx), exact=True).click()
            await expect(page.get_by_role("heading", name=f"Transaction {tx}")).to_be_visible()
            await expect(page.locator("dd.stopped")).to_have_text("active")
            charts = page.locator("#transaction-charts")
            await expect(charts).to_have_attribute("data-samples", "3")
            await expect(charts.locator('[data-chart="energy"]')).to_have_attribute("data-points", "3")
            await expect(charts.locator('[data-chart="power"]')).to_have_attribute("data-points", "3")
            current = charts.locator('[data-chart="current"]')
            await expect(current).to_have_attribute("data-points", "9")
            await expect(current).to_have_attribute("data-series", "L1,L2,L3")
            await expect(charts.locator('[data-chart="soc"]')).to_have_attribute("data-points", "3")
            await expect(charts.locator('[data-chart="energy"] canvas')).to_be_visible()
            await expect(current.locator(".u-legend")).to_contain_text("L2")
            series = await (
                await page.request.get(f"{browser.base_url}/transactions/{tx}/meter-values.json")
            ).json()
            assert series["energy_kwh"] == [1.0, 1.1, 1.25]
            assert series["power_kw"][0] == pytest.approx((16.0 + 15.5 + 15.0) * 0.23)
            assert (series["current_l1_a"][0], series["current_l3_a"][0], series["soc_percent"][2]) == (
                16,
                15,
                42,
            )

            profile = page.locator("table.profiles tbody tr").first
            await expect(profile).to_contain_text("TxProfile")
            await expect(profile.locator(".status-accepted")).to_have_text("accepted")

            await report(client, tx, begin + timedelta(seconds=90), 1400, 43)  # the open page follows
            await expect(charts.locator('[data-chart="energy"]')).to_have_attribute("data-points", "4")
            ended = await browser.another_person()  # a session that ends while its charts follow
            watcher = await ended.new_page()
            await watcher.goto(f"{browser.base_url}/transactions/{tx}")
            await log_in(watcher, ADMIN_TOKEN)
            await expect(watcher.locator("#transaction-charts")).to_have_attribute("data-samples", "4")
            await ended.clear_cookies()
            await expect(watcher.get_by_role("heading", name="Log in to the console")).to_be_visible()
            stop = call.StopTransaction(
                meter_stop=1500, timestamp=stamp(datetime.now(UTC)), transaction_id=tx
            )
            await client.call(stop)

            await page.locator("header nav").get_by_role("link", name="Transactions").click()
            await page.get_by_label("Id tag").fill("TAG1")
            await page.get_by_role("button", name="Filter").click()
            await expect(page.locator(f'tr[data-transaction="{tx}"] .energy')).to_have_text("0.50 kWh")
            async with page.expect_download() as downloading:
                await page.get_by_role("link", name="Export CSV").click()
            exported = await (await downloading.value).path()
            api_csv = await service.api.get("/transactions.csv", params={"id_tag": "TAG1"})
            assert exported.read_bytes().decode() == api_csv.text
            assert f"\r\n{tx},CP1,1,TAG1," in api_csv.text

            other = await (await browser.another_person()).new_page()
            await other.goto(f"{browser.base_url}/transactions")
            await log_in(other, dso.json()["token"])
            await expect(other.locator(f'tr[data-transaction="{tx}"]')).to_be_visible()
            await expect(other.locator("table.transactions")).not_to_contain_text("TAG1")
            await expect(other.get_by_label("Id tag")).to_have_count(0)
            await other.goto(f"{browser.base_url}/transactions/{tx}")
            await expect(other.locator("dl.transaction")).not_to_contain_text("TAG1")
            response = await other.request.get(f"{browser.base_url}/transactions.csv")
            assert f"\r\n{tx},CP1,1,," in await response.text()
