from collections.abc import AsyncIterator

import pytest

from ocpp_gateway import OcppServer
from tests.gateway.helpers import running_gateway


@pytest.fixture
async def gateway(migrated_url: str) -> AsyncIterator[OcppServer]:
    async with running_gateway(migrated_url) as server:
        yield server
