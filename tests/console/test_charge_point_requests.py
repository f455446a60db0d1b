"""A charge point's configuration, profiles and composite schedule on its console page, in Chromium, with
the charge point on a real OCPP WebSocket: the configuration read again (its AuthorizationKey redacted as the
API stores it) and a key changed through the command port, with each answer shown (accepted, reboot
required, rejected, not supported, failed) and "not connected" when it is gone; the profiles it accepted and
holds (the TxDefaultProfile sent at boot, one set and one cleared through the API); GetCompositeSchedule
asked from the page and its answer shown."""

import asyncio
from typing import Any

import pytest
from playwright.async_api import Page, expect

from app.domain.enums import Role
from tests.console.browser import chromium
from tests.console.helpers import add_site, booted_charge_point, log_in, root
from tests.e2e.service import ADMIN_TOKEN, Service, running_service
from tests.gateway.helpers import NO_ANSWER

pytestmark = pytest.mark.anyio

SECRET = "00112233445566778899aabbccddeeff"  # an AuthorizationKey's value: never shown


async def change(page: Page, key: str, value: str) -> None:
    form = page.locator("form.change-configuration")
    await form.locator('[name="key"]').fill(key)
    await form.locator('[name="value"]').fill(value)
    await form.get_by_role("button", name="Change configuration").click()


async def command(service: Service, action: str, payload: dict[str, Any]) -> str:
    """Sent through the API to CP1, once answered: its status."""
    body = {"action": action, "payload": payload}
    response = await service.api.post("/charge-points/CP1/commands", json=body, params={"wait": "true"})
    assert response.status_code == 202, response.text
    return str(response.json()["status"])


async def wait_for_profiles(service: Service, purposes: set[str]) -> list[dict[str, Any]]:
    """The API's list of CP1's profiles, once it holds profiles of these purposes (the boot's default is
    sent by the scheduler in the background)."""
    async with asyncio.timeout(20):
        while True:
            response = await service.api.get("/charge-points/CP1/charging-profiles")
            assert response.status_code == 200, response.text
            held: list[dict[str, Any]] = response.json()
            if {p["purpose"] for p in held} >= purposes:
                return held
            await asyncio.sleep(0.2)


def answers(by_key: dict[str, str]) -> Any:
    return lambda request: {"status": by_key.get(request["key"], "Accepted")}


async def test_configuration_is_read_and_changed_from_the_page(migrated_url: str) -> None:
    async with running_service(migrated_url, ocpp_call_timeout_s=2.0) as service:
        site_id = await add_site(service, "Depot")
        key = (await service.api.post("/api-keys", json={"role": Role.operator.value, "name": "ops"})).json()
        async with chromium(root(service)) as browser:
            async with booted_charge_point(service, "CP1", site_id) as client:
                keys = client.responses["GetConfiguration"]["configurationKey"]
                keys.append({"key": "AuthorizationKey", "readonly": False, "value": SECRET})
                page = await browser.open("/charge-points/CP1")
                await log_in(page, key["token"])
                section = page.locator("#configuration")

                await section.get_by_role("button", name="Read the configuration again").click()
                await expect(section.locator("[data-outcome]")).to_have_attribute("data-outcome", "accepted")
                await expect(section.locator('tr[data-key="MeterValueSampleInterval"] .value')).to_have_text(
                    "60"
                )
                await expect(section.locator('tr[data-key="AuthorizationKey"] .value')).to_have_text(
                    "<redacted>"
                )
                assert SECRET not in await page.content()
                api = await service.api.get("/charge-points/CP1/configuration")
                shown = {k["key"]: k["value"] for k in api.json()["items"]}
                assert shown["AuthorizationKey"] == "<redacted>"

                # Accepted: sent to the charge point, and the stored configuration follows (the part redraws).
                await change(page, "MeterValueSampleInterval", "30")
                await expect(section.locator("[data-outcome]")).to_have_attribute("data-outcome", "accepted")
                await expect(section.locator('tr[data-key="MeterValueSampleInterval"] .value')).to_have_text(
                    "30"
                )
                request = await client.wait_for_call("ChangeConfiguration")
                assert request == {"key": "MeterValueSampleInterval", "value": "30"}

                client.responses["ChangeConfiguration"] = answers(
                    {
                        "HeartbeatInterval": "RebootRequired",
                        "LocalPreAuthorize": "Rejected",
                        "Nonsense": "NotSupported",
                    }
                )
                outcomes = {
                    "HeartbeatInterval": ("rebootRequired", "reboot"),
                    "LocalPreAuthorize": ("rejected", "rejected"),
                    "Nonsense": ("notSupported", "not supported"),
                }
                for name, (outcome, words) in outcomes.items():
                    await change(page, name, "1")
                    await expect(section.locator("[data-outcome]")).to_have_attribute("data-outcome", outcome)
                    await expect(section.locator("[data-outcome]")).to_contain_text(f"{name}: ")
                    await expect(section.locator("[data-outcome]")).to_contain_text(words)

                # A new AuthorizationKey: its password once accepted, never shown.
                new_key = "ffeeddccbbaa99887766554433221100"
                await change(page, "AuthorizationKey", new_key)
                await expect(section.locator("[data-outcome]")).to_contain_text("AuthorizationKey: accepted")
                await expect(section.locator('tr[data-key="AuthorizationKey"] .value')).to_have_text(
                    "<redacted>"
                )
                assert new_key not in await page.content()
                assert (await service.api.get("/charge-points/CP1")).json()["has_password"] is True

                client.responses["ChangeConfiguration"] = NO_ANSWER
                await change(page, "MeterValueSampleInterval", "15")
                await expect(section.locator("[data-outcome]")).to_have_attribute("data-outcome", "waiting")
                await expect(section.locator("[data-outcome]")).to_have_attribute("data-outcome", "failed")
                await expect(section.locator("[data-outcome]")).to_contain_text("timeout")
                await expect(section.locator('tr[data-key="MeterValueSampleInterval"] .value')).to_have_text(
                    "30"
                )

                # The API's checks, at their fields; nothing is sent.
                sent = len(client.received)
                await change(page, "K" * 51, "1")
                await expect(section.locator('[data-field="key"]')).to_contain_text("is too long")
                await expect(section.locator('[name="key"]')).to_have_value("K" * 51)
                await change(page, "AuthorizationKey", "not-hex")
                await expect(section.locator('[data-field="value"]')).to_contain_text("hexadecimal")
                await expect(section.locator('[name="value"]')).to_have_value("")  # a password: not sent back
                await change(page, "", "1")
                await expect(section.locator('[data-field="key"]')).to_have_text("is required")
                assert len(client.received) == sent

            # The charge point is gone: nothing is sent, and the page says why.
            await change(page, "MeterValueSampleInterval", "20")
            await expect(section.locator('[data-outcome="notConnected"]')).to_contain_text(
                "CP1 is not connected"
            )


async def test_installed_profiles_and_the_composite_schedule(migrated_url: str) -> None:
    async with running_service(migrated_url) as service:
        site_id = await add_site(service, "Depot")
        async with booted_charge_point(service, "CP1", site_id) as client, chromium(root(service)) as browser:
            cap = {
                "chargingProfileId": 77,
                "stackLevel": 2,
                "chargingProfilePurpose": "ChargePointMaxProfile",
                "chargingProfileKind": "Absolute",
                "chargingSchedule": {
                    "startSchedule": "2026-12-07T14:00:00Z",
                    "chargingRateUnit": "A",
                    "chargingSchedulePeriod": [
                        {"startPeriod": 0, "limit": 20.0},
                        {"startPeriod": 3600, "limit": 10.0},
                    ],
                },
            }
            set_cap = {"connectorId": 0, "csChargingProfiles": cap}
            assert await command(service, "SetChargingProfile", set_cap) == "accepted"
            # The boot's TxDefaultProfile and the cap, as the API lists them.
            held = await wait_for_profiles(service, {"TxDefaultProfile", "ChargePointMaxProfile"})
            assert {p["charging_profile_id"]: p["connector_id"] for p in held} == {1: 0, 77: 0}

            page = await browser.open("/charge-points/CP1")
            await log_in(page, ADMIN_TOKEN)
            profiles = page.locator("table.profiles")
            await expect(profiles.locator('tr[data-profile="77"]')).to_contain_text("ChargePointMaxProfile")
            await expect(profiles.locator('tr[data-profile="77"] .schedule')).to_contain_text(
                "2026-12-07 14:00:00 UTC: 20.0 A"
            )
            await expect(profiles.locator('tr[data-profile="77"] .schedule')).to_contain_text(
                "2026-12-07 15:00:00 UTC: 10.0 A"
            )
            await expect(profiles.locator('tr[data-profile="1"]')).to_contain_text("TxDefaultProfile")

            assert await command(service, "ClearChargingProfile", {"id": 77}) == "accepted"
            await page.reload()
            await expect(profiles.locator('tr[data-profile="77"]')).to_have_count(0)
            await expect(profiles.locator('tr[data-profile="1"]')).to_have_count(1)

            section = page.locator("#composite")
            await expect(section).to_contain_text("It has not answered a GetCompositeSchedule yet.")
            client.responses["GetCompositeSchedule"] = {
                "status": "Accepted",
                "connectorId": 0,
                "scheduleStart": "2026-12-07T14:00:00Z",
                "chargingSchedule": {
                    "duration": 7200,
                    "chargingRateUnit": "A",
                    "chargingSchedulePeriod": [
                        {"startPeriod": 0, "limit": 16.0},
                        {"startPeriod": 1800, "limit": 6.0, "numberPhases": 1},
                    ],
                },
            }
            await section.locator('[name="duration"]').fill("7200")
            await section.locator('[name="chargingRateUnit"]').select_option("A")
            await section.get_by_role("button", name="Ask for the composite schedule").click()
            await expect(section.locator("[data-outcome]")).to_have_attribute("data-outcome", "accepted")
            rows = section.locator("table.composite tbody tr")
            await expect(rows).to_have_count(2)
            await expect(rows.nth(0)).to_contain_text("2026-12-07 14:00:00 UTC")
            await expect(rows.nth(0).locator(".limit")).to_have_text("16.0 A")
            await expect(rows.nth(1)).to_contain_text("2026-12-07 14:30:00 UTC")
            await expect(rows.nth(1)).to_contain_text("2026-12-07 16:00:00 UTC")
            await expect(rows.nth(1).locator(".limit")).to_have_text("6.0 A")
            request = await client.wait_for_call("GetCompositeSchedule")
            assert request == {"connectorId": 0, "duration": 7200, "chargingRateUnit": "A"}

            client.responses["GetCompositeSchedule"] = {"status": "Rejected"}
            await section.locator('[name="duration"]').fill("an hour")
            await section.get_by_role("button", name="Ask for the composite schedule").click()
            await expect(section.locator('[data-field="duration"]')).to_have_text("must be a whole number")
            await section.locator('[name="duration"]').fill("600")
            await section.get_by_role("button", name="Ask for the composite schedule").click()
            await expect(section.locator("[data-outcome]")).to_have_attribute("data-outcome", "rejected")
            await expect(rows.nth(0).locator(".limit")).to_have_text("16.0 A")  # the last one it answered
