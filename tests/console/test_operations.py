"""Operations from the console in Chromium: the ReserveNow form goes to a charge point on a real WebSocket,
the task page follows the status live (waiting → accepted; waiting → timeout for a charge point that does
not answer); the API's validation shows next to the field; roles without the right see no form."""

from datetime import UTC, datetime, timedelta

import pytest
from playwright.async_api import Page, expect

from app.console.operations import OPERATIONS, SECURITY_OPERATIONS, form_fields, payload_from_form
from ocpp_gateway.commands import OPERATIONS as GATEWAY_OPERATIONS
from ocpp_gateway.commands import SECURITY_OPERATIONS as GATEWAY_SECURITY_OPERATIONS
from tests.console.browser import chromium
from tests.console.helpers import add_site, booted_charge_point, log_in, root
from tests.e2e.service import ADMIN_TOKEN, running_service
from tests.gateway.helpers import NO_ANSWER

pytestmark = pytest.mark.anyio


def test_there_is_a_form_for_every_central_system_operation() -> None:
    assert set(OPERATIONS) == GATEWAY_OPERATIONS
    assert set(SECURITY_OPERATIONS) == GATEWAY_SECURITY_OPERATIONS
    assert all(form_fields(action) is not None for action in SECURITY_OPERATIONS)  # each schema is there
    fields = {f.name: f for f in form_fields("ReserveNow")}
    assert fields["reservationId"].required is False  # the service allocates one
    assert fields["expiryDate"].kind == "datetime"
    form = {"connectorId": "1", "idTag": "TAG1", "expiryDate": "2026-12-07T18:00", "parentIdTag": ""}
    payload = payload_from_form("ReserveNow", form)
    assert payload == {"connectorId": 1, "idTag": "TAG1", "expiryDate": "2026-12-07T18:00:00Z"}


async def fill(page: Page, values: dict[str, str]) -> None:
    for name, value in values.items():
        await page.locator(f'[name="{name}"]').fill(value)


async def test_reserve_now_from_the_form_and_its_task_going_to_accepted(migrated_url: str) -> None:
    async with running_service(migrated_url) as service:
        site_id = await add_site(service, "Depot")
        assert (await service.api.post("/id-tags", json={"id_tag": "TAG1"})).status_code == 201
        async with booted_charge_point(service, "CP1", site_id) as client, chromium(root(service)) as browser:
            page = await browser.open("/charge-points/CP1")
            await log_in(page, ADMIN_TOKEN)
            await page.get_by_role("link", name="Send an operation").click()
            await page.get_by_role("link", name="ReserveNow").click()
            await expect(page.locator('select[name="charge_point"]')).to_have_value("CP1")
            expiry = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")

            # The schema's limit, as the API enforces it, shown at its field; nothing is sent.
            await fill(page, {"connectorId": "1", "idTag": "T" * 21, "expiryDate": expiry})
            await page.get_by_role("button", name="Send ReserveNow").click()
            await expect(page.locator('.field-error[data-field="idTag"]')).to_contain_text("is too long")
            await expect(page.locator('[name="idTag"]')).to_have_value("T" * 21)  # kept for correcting
            await fill(page, {"connectorId": "one"})
            await page.get_by_role("button", name="Send ReserveNow").click()
            await expect(page.locator('.field-error[data-field="connectorId"]')).to_have_text(
                "must be a whole number"
            )
            assert [a for a, _ in client.received if a == "ReserveNow"] == []

            await fill(page, {"connectorId": "1", "idTag": "TAG1"})
            await page.get_by_role("button", name="Send ReserveNow").click()
            await expect(page.get_by_role("heading", name="ReserveNow to CP1")).to_be_visible()
            await expect(page.locator("[data-status]")).to_have_attribute("data-status", "accepted")
            await expect(page.locator("#command-status")).to_contain_text('"status": "Accepted"')
            request = await client.wait_for_call("ReserveNow")
            assert (request["connectorId"], request["idTag"]) == (1, "TAG1")

            # A charge point that does not answer: the task waits, then times out, on the same page.
            client.responses["Reset"] = NO_ANSWER
            await page.goto(f"{browser.base_url}/operations/Reset?charge_point=CP1")
            await page.locator('select[name="type"]').select_option("Soft")
            await page.get_by_role("button", name="Send Reset").click()
            await expect(page.locator(".task")).to_have_text("waiting for the charge point")
            await expect(page.locator("[data-status]")).to_have_attribute("data-status", "timeout")


async def test_an_analyst_may_not_send_operations(migrated_url: str) -> None:
    async with running_service(migrated_url) as service:
        created = await service.api.post("/api-keys", json={"role": "analyst", "name": "analyst"})
        async with chromium(root(service)) as browser:
            page = await browser.open("/")
            await log_in(page, created.json()["token"])
            await expect(page.get_by_role("heading", name="Overview")).to_be_visible()
            await expect(page.get_by_role("link", name="Operations")).to_have_count(0)
            await page.goto(f"{browser.base_url}/operations/Reset")
            await expect(page.get_by_text("The role 'analyst' may not send operations.")).to_be_visible()
