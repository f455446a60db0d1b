"""A site's page in Chromium against the whole service: a forecast CSV with a bad row is refused row by
row and nothing is stored; corrected, it is stored and the scheduler's revision shows its trigger and the
site capacity binding; an override is added (a refusal shown at its field), then ended now, as the API
reads it; a grid operator uploads forecasts but sees no overrides."""

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from ocpp.v16 import call
from playwright.async_api import Page, expect

from app.domain.enums import Role
from tests.console.browser import chromium
from tests.console.helpers import add_site, add_user, booted_charge_point, log_in_as, root
from tests.e2e.service import Service, running_service

pytestmark = pytest.mark.anyio

PASSWORD = "correct horse battery"


def forecast_csv(path: Path, limits: list[str]) -> Path:
    now = datetime.now(UTC)
    start = now.replace(minute=now.minute - now.minute % 15, second=0, microsecond=0)
    lines = ["start,end,limit_kw"]
    for i, limit in enumerate(limits):
        begin, end = start + timedelta(minutes=15 * i), start + timedelta(minutes=15 * (i + 1))
        lines.append(f"{begin.isoformat()},{end.isoformat()},{limit}")
    path.write_text("\n".join(lines) + "\n")
    return path


async def revision_for(service: Service, site_id: int, trigger: str) -> dict[str, object]:
    """Until the scheduler has stored a revision of the site made for `trigger`."""
    for _ in range(400):
        found = (await service.api.get(f"/sites/{site_id}/schedule/revisions")).json()["items"]
        for revision in found:
            if trigger in revision["trigger"]:
                return dict(revision)
        await asyncio.sleep(0.05)
    raise AssertionError(f"no revision for {trigger!r}")


async def upload(page: Page, path: Path) -> None:
    await page.get_by_label("Forecast CSV").set_input_files(str(path))
    await page.get_by_role("button", name="Upload forecast").click()


async def test_forecast_upload_revisions_and_overrides_on_the_site_page(
    migrated_url: str, tmp_path: Path
) -> None:
    async with running_service(migrated_url) as service:
        site_id = await add_site(service, "Depot")
        assert (await service.api.post("/id-tags", json={"id_tag": "TAG1"})).status_code == 201
        await add_user(service, "olga", PASSWORD, Role.operator)
        await add_user(service, "dso", PASSWORD, Role.grid_operator, site_ids=[site_id])
        async with booted_charge_point(service, "CP1", site_id) as client, chromium(root(service)) as browser:
            timestamp = datetime.now(UTC).isoformat().replace("+00:00", "Z")
            await client.call(
                call.StartTransaction(connector_id=1, id_tag="TAG1", meter_start=0, timestamp=timestamp)
            )
            page = await browser.open(f"/sites/{site_id}")
            await log_in_as(page, "olga", PASSWORD)
            await expect(page.get_by_role("heading", name="Site Depot")).to_be_visible()
            await expect(page.locator('[data-now="limit"]')).to_have_text("50.0 kW")

            await upload(page, forecast_csv(tmp_path / "bad.csv", ["5", "lots", "5"]))
            refused = page.locator(".forecast-errors")
            await expect(refused).to_contain_text("bad.csv was refused; nothing was stored")
            await expect(refused.locator("tbody tr")).to_have_count(1)
            await expect(refused.locator('tr[data-row="2"]')).to_contain_text("limit_kw")
            assert (await service.api.get(f"/sites/{site_id}/forecasts")).json()["items"] == []

            await upload(page, forecast_csv(tmp_path / "good.csv", ["5", "5", "5"]))
            await expect(page.get_by_role("status")).to_contain_text("stored; the scheduler replans")
            stored = (await service.api.get(f"/sites/{site_id}/forecasts")).json()["items"]
            assert [(f["interval_count"], f["author"]) for f in stored] == [(3, "olga")]
            await expect(page.locator(f'tr[data-forecast="{stored[0]["id"]}"]')).to_contain_text("olga")
            await expect(page.locator('[data-now="limit"]')).to_have_text("5.0 kW")

            revision = await revision_for(service, site_id, "forecast posted")
            await page.reload()
            row = page.locator(f'tr[data-revision="{revision["id"]}"]')
            await expect(row.locator(".trigger")).to_contain_text("forecast posted")
            await expect(row.locator(".binding-first")).to_have_text("site")
            await expect(row.locator(".binding")).to_contain_text("site ×")

            add = page.locator(f'form[action="/sites/{site_id}/overrides"]')
            await add.get_by_label("Kind").select_option("cap_kw")
            await add.get_by_label("Reason").fill("transformer maintenance")
            await add.get_by_role("button", name="Add override").click()
            await expect(page.locator('.field-error[data-field="value"]')).not_to_be_empty()
            await expect(add.get_by_label("Reason")).to_have_value("transformer maintenance")
            await add.get_by_label("Value").fill("3")
            await add.get_by_role("button", name="Add override").click()
            (override,) = (await service.api.get("/overrides", params={"site_id": site_id})).json()["items"]
            assert (override["kind"], override["value"], override["status"]) == ("cap_kw", 3.0, "active")
            assert (override["scope"], override["author"]) == ("site", "olga")
            row = page.locator(f'tr[data-override="{override["id"]}"]')
            await expect(row.locator(".status")).to_have_text("active")
            await row.get_by_role("button", name="End now").click()
            await expect(row.locator(".status")).to_have_text("expired")
            ended = (await service.api.get(f"/overrides/{override['id']}")).json()
            assert ended["status"] == "expired"
            assert ended["valid_until"] is not None
            audit = (await service.api.get(f"/overrides/{override['id']}/audit")).json()
            assert [entry["action"] for entry in audit] == ["created", "updated"]

            dso = await (await browser.another_person()).new_page()
            await dso.goto(f"{browser.base_url}/sites/{site_id}")
            await log_in_as(dso, "dso", PASSWORD)
            await expect(dso.get_by_role("heading", name="Site Depot")).to_be_visible()
            await expect(dso.get_by_role("button", name="Upload forecast")).to_be_visible()
            await expect(dso.get_by_role("heading", name="Overrides")).to_have_count(0)
            await expect(dso.locator(f'tr[data-revision="{revision["id"]}"]')).to_be_visible()


async def test_feeders_sessions_and_overrides_on_groups_transactions_and_connectors(
    migrated_url: str,
) -> None:
    async with running_service(migrated_url) as service:
        site_id = await add_site(service, "Yard")
        group = await service.api.post(
            f"/sites/{site_id}/groups", json={"name": "Feeder A", "capacity_kw": 20}
        )
        assert group.status_code == 201, group.text
        group_id = group.json()["id"]
        assert (await service.api.post("/id-tags", json={"id_tag": "TAG1"})).status_code == 201
        assert (await service.api.post("/charge-points", json={"id": "ELSEWHERE"})).status_code == 201
        await add_user(service, "olga", PASSWORD, Role.operator)
        async with booted_charge_point(service, "CP1", site_id) as client, chromium(root(service)) as browser:
            placed = await service.api.put(f"/sites/{site_id}/charge-points/CP1", json={"group_id": group_id})
            assert placed.status_code == 200, placed.text
            timestamp = datetime.now(UTC).isoformat().replace("+00:00", "Z")
            started = await client.call(
                call.StartTransaction(connector_id=1, id_tag="TAG1", meter_start=0, timestamp=timestamp)
            )
            tx = started.transaction_id
            await schedule_of(service, tx)

            page = await browser.open(f"/sites/{site_id}")
            await log_in_as(page, "olga", PASSWORD)
            shown = await page.locator("p.plan").get_attribute("data-revision")
            plan = await planned(service, site_id, int(shown or 0), tx)
            feeder = page.locator(f'tr[data-group="{group_id}"]')
            await expect(feeder).to_contain_text("Feeder A")
            await expect(feeder.locator(".capacity-now")).to_have_text("20.0 kW")
            await expect(feeder.locator(".members")).to_have_text("CP1")
            session = page.locator(f'tr[data-session="{tx}"]')
            await expect(session).to_contain_text("CP1 #1")
            await expect(session).to_contain_text("TAG1")
            await expect(session.locator(".schedule")).to_contain_text(f"{plan['now_kw']:,.1f} kW")
            await expect(session.locator(".power-now")).to_have_text(f"{plan['now_kw']:,.1f} kW")
            await expect(session.locator(".planned")).to_have_text(
                f"{plan['entry']['delivered_kwh']:.2f} kWh"
            )

            add = page.locator(f'form[action="/sites/{site_id}/overrides"]')
            await add.get_by_label("Applies to").select_option("connector")
            await add.get_by_label("Charge point (scope").fill("ELSEWHERE")
            await add.get_by_label("Connector (scope").fill("1")
            await add.get_by_label("Kind").select_option("cap_kw")
            await add.get_by_label("Value").fill("4")
            await add.get_by_label("Reason").fill("cable check")
            await add.get_by_role("button", name="Add override").click()
            await expect(page.locator('[data-field="charge_point_id"]')).to_have_text(
                "the connector is not in this site"
            )
            assert (await service.api.get("/overrides")).json()["items"] == []

            await add.get_by_label("Applies to").select_option("group")
            await add.get_by_label("Group (scope").select_option(label="Feeder A")
            await add.get_by_role("button", name="Add override").click()
            await expect(page.locator("tr[data-override] .target")).to_have_text("group Feeder A")

            add = page.locator(f'form[action="/sites/{site_id}/overrides"]')
            await add.get_by_label("Applies to").select_option("transaction")
            await add.get_by_label("Transaction (scope").select_option(str(tx))
            await add.get_by_label("Kind").select_option("fixed_kw")
            await add.get_by_label("Value").fill("3")
            await add.get_by_label("Reason").fill("driver asked")
            await add.get_by_role("button", name="Add override").click()
            await expect(page.locator("tr[data-override]")).to_have_count(2)
            found = (await service.api.get("/overrides", params={"site_id": site_id})).json()["items"]
            by_scope = {o["scope"]: o for o in found}
            assert (by_scope["group"]["group_id"], by_scope["group"]["value"]) == (group_id, 4.0)
            assert (by_scope["transaction"]["transaction_id"], by_scope["transaction"]["kind"]) == (
                tx,
                "fixed_kw",
            )

            capped = page.locator(f'tr[data-override="{by_scope["group"]["id"]}"]')
            await capped.get_by_text("Change").click()
            await capped.get_by_label("New value").fill("-1")
            await capped.get_by_role("button", name="Save override").click()
            capped = page.locator(f'tr[data-override="{by_scope["group"]["id"]}"]')
            await expect(capped.locator('[data-field="value"]')).to_contain_text("needs a finite value")
            await expect(capped.get_by_label("New value")).to_have_value("-1")
            end = (datetime.now(UTC) + timedelta(hours=3)).replace(microsecond=0)
            await capped.get_by_label("New value").fill("7.5")
            await capped.get_by_label("New end").fill(end.strftime("%Y-%m-%dT%H:%M:%S"))
            await capped.get_by_role("button", name="Save override").click()
            capped = page.locator(f'tr[data-override="{by_scope["group"]["id"]}"]')
            await expect(capped.locator(".value")).to_have_text("7.5")
            changed = (await service.api.get(f"/overrides/{by_scope['group']['id']}")).json()
            assert (changed["value"], changed["valid_until"]) == (7.5, end.isoformat().replace("+00:00", "Z"))
            audit = (await service.api.get(f"/overrides/{by_scope['group']['id']}/audit")).json()
            assert [(a["action"], a["author"]) for a in audit] == [("created", "olga"), ("updated", "olga")]
            await revision_for(service, site_id, "override updated")


async def schedule_of(service: Service, transaction_id: int) -> None:
    """Until the scheduler has planned the transaction."""
    for _ in range(400):
        if (await service.api.get(f"/transactions/{transaction_id}/schedule")).status_code == 200:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"transaction {transaction_id} was not planned")


async def planned(service: Service, site_id: int, revision_id: int, transaction_id: int) -> dict[str, Any]:
    """The transaction's entry in the site's revision, as the API reads it, and its power now."""
    found = (await service.api.get(f"/sites/{site_id}/schedule/revisions/{revision_id}")).json()
    revision = found["revision"]
    (entry,) = [e for e in found["entries"] if e["transaction_id"] == transaction_id]
    step = timedelta(minutes=revision["interval_minutes"])
    current = int((datetime.now(UTC) - datetime.fromisoformat(revision["start"])) / step)
    assert 0 <= current < len(entry["power_kw"])
    return {"entry": entry, "now_kw": entry["power_kw"][current]}
