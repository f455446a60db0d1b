"""TxDefaultProfiles follow the site: a charge point placed in a site through the API gets one at once (not
at its next boot), and a change of the site's fallback sends new ones to its connected charge points."""

from typing import Any

import pytest
from ocpp.v16 import call

from tests.e2e.service import Service, running_service
from tests.e2e.test_smart_charging import eventually
from tests.gateway.helpers import ClientChargePoint, connect_charge_point

pytestmark = pytest.mark.anyio


def default_limits(client: ClientChargePoint) -> list[float]:
    """The first period's limit of each TxDefaultProfile the charge point was sent, in order."""
    profiles: list[dict[str, Any]] = [
        payload["csChargingProfiles"]
        for action, payload in client.received
        if action == "SetChargingProfile"
        and payload["csChargingProfiles"]["chargingProfilePurpose"] == "TxDefaultProfile"
    ]
    return [float(p["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"]) for p in profiles]


async def boot(client: ClientChargePoint) -> None:
    booted = await client.call(
        call.BootNotification(charge_point_model="E2E", charge_point_vendor="smartcharge")
    )
    assert booted.status == "Accepted"
    await client.call(call.StatusNotification(connector_id=1, error_code="NoError", status="Available"))


async def register(service: Service, *cp_ids: str) -> None:
    for cp_id in cp_ids:
        assert (await service.api.post("/charge-points", json={"id": cp_id})).status_code == 201


async def test_a_placed_charge_point_gets_a_default_profile_and_a_new_fallback_new_ones(
    migrated_url: str,
) -> None:
    async with running_service(migrated_url) as service:
        site = await service.api.post(
            "/sites", json={"name": "depot", "grid_connection_limit_kw": 100, "fallback_limit_kw": 22}
        )
        assert site.status_code == 201, site.text
        site_id = site.json()["id"]
        await register(service, "CP1", "CP2")
        gateway = service.app.state.gateway
        async with connect_charge_point(gateway, "CP1") as cp1, connect_charge_point(gateway, "CP2") as cp2:
            await boot(cp1)
            await boot(cp2)
            assert default_limits(cp1) == []  # booted without a site: nothing to share

            placed = await service.api.put(f"/sites/{site_id}/charge-points/CP1", json={})
            assert placed.status_code == 200, placed.text
            await eventually(lambda: len(default_limits(cp1)) == 1)
            (whole_site,) = default_limits(cp1)
            assert whole_site > 0

            changed = await service.api.patch(f"/sites/{site_id}", json={"fallback_limit_kw": 11})
            assert changed.status_code == 200, changed.text
            await eventually(lambda: len(default_limits(cp1)) == 2)
            assert default_limits(cp1)[1] == pytest.approx(whole_site / 2, abs=0.1)

            renamed = await service.api.patch(f"/sites/{site_id}", json={"name": "yard"})
            assert renamed.status_code == 200, renamed.text
            placed = await service.api.put(f"/sites/{site_id}/charge-points/CP2", json={})
            assert placed.status_code == 200, placed.text
            # CP2 joins: both share the fallback (a rename sent nothing)
            await eventually(lambda: len(default_limits(cp2)) == 1 and len(default_limits(cp1)) == 3)
            assert default_limits(cp1)[2] == pytest.approx(whole_site / 4, abs=0.1)
            assert default_limits(cp2) == default_limits(cp1)[2:]
