"""The outbox (order, retries, transaction id mapping) and the configuration table, without sockets."""

from typing import Any

import pytest
from ocpp.v16.enums import ConfigurationStatus

from simulator.config import Configuration
from simulator.outbox import Item, Outbox, SendFailed

pytestmark = pytest.mark.anyio


class Central:
    """Answers sends in order; fails the ones whose label is in `fail`."""

    def __init__(self, fail: dict[str, int] | None = None):
        self.fail = dict(fail or {})
        self.seen: list[tuple[str, int | None]] = []
        self.slept: list[float] = []

    async def send(self, payload: tuple[str, int | None]) -> Any:
        self.seen.append(payload)
        label = payload[0]
        if self.fail.get(label, 0) > 0:
            self.fail[label] -= 1
            raise SendFailed(label)
        return type("Answer", (), {"transaction_id": 77})() if label == "start" else None

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)


async def drain(outbox: Outbox, central: Central) -> None:
    import asyncio

    task = asyncio.create_task(outbox.run(central.send, central.sleep))
    await outbox.drained()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


def items(outbox: Outbox, mapped: list[int]) -> None:
    outbox.put(
        Item(
            lambda tid: ("start", tid),
            True,
            local_tx=1,
            on_result=lambda r: mapped.append(r.transaction_id),
            starts_transaction=True,
        )
    )
    outbox.put(Item(lambda tid: ("meter", tid), True, local_tx=1))
    outbox.put(Item(lambda _: ("status", None), False))
    outbox.put(Item(lambda tid: ("stop", tid), True, local_tx=1))


async def test_in_order_with_the_server_transaction_id_after_the_start() -> None:
    outbox, central, mapped = Outbox(lambda: 3, lambda: 10.0), Central(), []
    items(outbox, mapped)
    await drain(outbox, central)
    assert central.seen == [("start", None), ("meter", 77), ("status", None), ("stop", 77)]
    assert mapped == [77]
    assert outbox.server_id(1) == 77
    assert (outbox.stats.delivered, outbox.stats.dropped) == (4, 0)


async def test_transaction_messages_are_retried_with_growing_waits_then_dropped() -> None:
    outbox, central = Outbox(lambda: 3, lambda: 10.0), Central(fail={"meter": 5, "status": 1})
    items(outbox, [])
    await drain(outbox, central)
    assert [label for label, _ in central.seen] == ["start", "meter", "meter", "meter", "status", "stop"]
    assert central.slept == [10.0, 20.0]  # RetryInterval × attempts so far
    assert (outbox.stats.dropped, outbox.stats.dropped_other, outbox.stats.delivered) == (1, 1, 2)


async def test_without_an_accepted_start_the_rest_of_the_transaction_is_dropped() -> None:
    outbox, central = Outbox(lambda: 2, lambda: 1.0), Central(fail={"start": 2})
    items(outbox, [])
    await drain(outbox, central)
    assert [label for label, _ in central.seen] == ["start", "start", "status"]
    assert outbox.stats.dropped == 3


async def test_a_lost_connection_keeps_transaction_messages_only() -> None:
    outbox = Outbox(lambda: 3, lambda: 1.0)
    items(outbox, [])
    outbox.drop_volatile()
    assert len(outbox) == 3


def test_configuration_answers_and_changes() -> None:
    config = Configuration(2, max_stack_level=5)
    known, unknown = config.get(["ChargeProfileMaxStackLevel", "Nope"])
    assert known == [{"key": "ChargeProfileMaxStackLevel", "readonly": True, "value": "5"}]
    assert unknown == ["Nope"]
    assert len(config.get()[0]) > 30
    assert config.change("HeartbeatInterval", "60") == ConfigurationStatus.accepted
    assert config.get_int("HeartbeatInterval") == 60
    assert config.change("HeartbeatInterval", "-1") == ConfigurationStatus.rejected
    assert config.change("LocalAuthorizeOffline", "FALSE") == ConfigurationStatus.accepted
    assert config.get_bool("LocalAuthorizeOffline") is False
    assert config.change("LocalAuthorizeOffline", "maybe") == ConfigurationStatus.rejected
    assert config.change("MeterValuesSampledData", "SoC,Power.Active.Import") == ConfigurationStatus.accepted
    assert config.get_list("MeterValuesSampledData") == ["SoC", "Power.Active.Import"]
    assert config.change("MeterValuesSampledData", "Voltage") == ConfigurationStatus.rejected
    assert config.change("WebSocketPingInterval", "30") == ConfigurationStatus.reboot_required
    assert config.change("NumberOfConnectors", "3") == ConfigurationStatus.rejected
    assert config.change("Unknown", "1") == ConfigurationStatus.not_supported
