"""Transactions and meter values: filters, pages, energy, detail, CSV."""

import csv
import io
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.api import seed
from tests.api.conftest import Api, problem

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


async def charging_day(api: Api) -> dict[str, int]:
    """CP1: a finished session (TAG1, 08:00–09:00, 5 kWh) and an active one (TAG2, from 10:00, samples);
    CP2: a finished session (TAG1, 12:00–13:00)."""
    await seed.charge_point(api.database, "CP1")
    await seed.charge_point(api.database, "CP2")
    done = await seed.transaction(
        api.database, "CP1", T0, stop=T0 + timedelta(hours=1), meter_start_wh=1000, meter_stop_wh=6000
    )
    active = await seed.transaction(
        api.database, "CP1", T0 + timedelta(hours=2), id_tag="TAG2", connector_id=2, meter_start_wh=6000
    )
    other = await seed.transaction(
        api.database,
        "CP2",
        T0 + timedelta(hours=4),
        stop=T0 + timedelta(hours=5),
        meter_start_wh=0,
        meter_stop_wh=700,
    )
    assert done.id is not None
    assert active.id is not None
    assert other.id is not None
    await seed.add(
        api.database,
        seed.meter_value("CP1", T0 + timedelta(minutes=30), 3500, transaction_id=done.id),
        seed.meter_value(
            "CP1", T0 + timedelta(hours=2, minutes=15), 6.5, transaction_id=active.id, unit="kWh"
        ),
        seed.meter_value(
            "CP1", T0 + timedelta(hours=2, minutes=30), 7.25, transaction_id=active.id, unit="kWh"
        ),
        seed.meter_value(
            "CP1", T0 + timedelta(hours=2, minutes=30), 3600, transaction_id=active.id, phase="L1"
        ),
        seed.meter_value(
            "CP1",
            T0 + timedelta(hours=2, minutes=30),
            11.0,
            transaction_id=active.id,
            measurand="Power.Active.Import",
            unit="kW",
        ),
        seed.meter_value("CP2", T0 + timedelta(hours=6), 700),  # outside any transaction
    )
    return {"done": done.id, "active": active.id, "other": other.id}


@pytest.mark.anyio
async def test_list_with_energy(api: Api, analyst: httpx.AsyncClient) -> None:
    ids = await charging_day(api)
    page = (await analyst.get("/transactions")).json()
    assert page["total"] == 3
    assert [t["id"] for t in page["items"]] == [ids["other"], ids["active"], ids["done"]]
    by_id = {t["id"]: t for t in page["items"]}
    assert by_id[ids["done"]]["energy_wh"] == 5000
    assert by_id[ids["done"]]["active"] is False
    assert by_id[ids["active"]]["energy_wh"] == 1250  # latest register 7.25 kWh − 6000 Wh
    assert by_id[ids["active"]]["active"] is True
    assert by_id[ids["active"]]["stop_timestamp"] is None
    assert by_id[ids["other"]]["energy_wh"] == 700
    assert by_id[ids["done"]]["start_timestamp"] == "2026-03-01T08:00:00Z"


@pytest.mark.anyio
async def test_filters_and_pages(api: Api, analyst: httpx.AsyncClient) -> None:
    ids = await charging_day(api)

    async def found(**params: object) -> list[int]:
        page = (await analyst.get("/transactions", params=params)).json()
        return sorted(t["id"] for t in page["items"])

    assert await found(charge_point_id="CP1") == sorted([ids["done"], ids["active"]])
    assert await found(id_tag="TAG1") == sorted([ids["done"], ids["other"]])
    assert await found(active=True) == [ids["active"]]
    assert await found(active=False) == sorted([ids["done"], ids["other"]])
    assert await found(charge_point_id="CP1", active=False) == [ids["done"]]
    assert await found(charge_point_id="CP1", connector_id=2) == [ids["active"]]
    # overlapping [from, to): 08:30–08:45 hits the first; 11:00– hits the active one and the later one
    assert await found(**{"from": "2026-03-01T08:30:00Z", "to": "2026-03-01T08:45:00Z"}) == [ids["done"]]
    assert await found(**{"from": "2026-03-01T11:00:00Z"}) == sorted([ids["active"], ids["other"]])
    assert await found(**{"to": "2026-03-01T10:00:00Z"}) == [ids["done"]]
    assert await found(**{"from": "2026-03-01T11:00:00+02:00", "to": "2026-03-01T11:30:00+02:00"}) == [
        ids["done"]
    ]
    page = (await analyst.get("/transactions", params={"limit": 1, "offset": 1})).json()
    assert (page["total"], [t["id"] for t in page["items"]]) == (3, [ids["active"]])
    assert (await analyst.get("/transactions", params={"offset": 10})).json()["items"] == []
    body = problem(await analyst.get("/transactions", params={"from": "yesterday"}), 422)
    assert body["errors"][0]["loc"] == ["query", "from"]
    problem(
        await analyst.get(
            "/transactions", params={"from": "2026-03-02T00:00:00Z", "to": "2026-03-01T00:00:00Z"}
        ),
        422,
    )


@pytest.mark.anyio
async def test_detail_has_meter_values_and_energy(api: Api, analyst: httpx.AsyncClient) -> None:
    ids = await charging_day(api)
    detail = (await analyst.get(f"/transactions/{ids['active']}")).json()
    assert detail["energy_wh"] == 1250
    assert detail["id_tag"] == "TAG2"
    values = detail["meter_values"]
    assert len(values) == 4
    assert values[0]["timestamp"] == "2026-03-01T10:15:00Z"
    assert (
        values[0]["value"],
        values[0]["unit"],
        values[0]["value_normalised"],
        values[0]["unit_normalised"],
    ) == (
        "6.5",
        "kWh",
        6500,
        "Wh",
    )
    assert {v["measurand"] for v in values} == {"Energy.Active.Import.Register", "Power.Active.Import"}
    finished = (await analyst.get(f"/transactions/{ids['done']}")).json()
    assert finished["energy_wh"] == 5000
    assert finished["meter_stop_wh"] == 6000
    assert finished["stop_reason"] == "Local"
    assert len(finished["meter_values"]) == 1
    problem(await analyst.get("/transactions/999999"), 404)


@pytest.mark.anyio
async def test_active_without_samples_has_no_energy(api: Api, analyst: httpx.AsyncClient) -> None:
    await seed.charge_point(api.database, "CP1")
    tx = await seed.transaction(api.database, "CP1", T0)
    assert (await analyst.get(f"/transactions/{tx.id}")).json()["energy_wh"] is None


def rows(response: httpx.Response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert "attachment" in response.headers["content-disposition"]
    return list(csv.DictReader(io.StringIO(response.text)))


@pytest.mark.anyio
async def test_transactions_csv(api: Api, analyst: httpx.AsyncClient) -> None:
    ids = await charging_day(api)
    table = rows(await analyst.get("/transactions.csv"))
    assert [int(r["id"]) for r in table] == [ids["done"], ids["active"], ids["other"]]
    first = table[0]
    assert first["start_timestamp"] == "2026-03-01T08:00:00Z"
    assert float(first["energy_wh"]) == 5000
    assert first["active"] == "False"
    assert table[1]["stop_timestamp"] == ""
    header = (await analyst.get("/transactions.csv")).text.splitlines()[0].split(",")
    assert header[:3] == ["id", "charge_point_id", "connector_id"]
    assert "energy_wh" in header
    assert [
        int(r["id"]) for r in rows(await analyst.get("/transactions.csv", params={"id_tag": "TAG2"}))
    ] == [ids["active"]]
    problem(await analyst.get("/transactions.csv", params={"active": "perhaps"}), 422)


@pytest.mark.anyio
async def test_csv_reads_in_batches(
    api: Api, analyst: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.services.ocpp.reporting import export

    monkeypatch.setattr(export, "CSV_BATCH", 2)
    await seed.charge_point(api.database, "CP1")
    for n in range(5):
        await seed.transaction(
            api.database,
            "CP1",
            T0 + timedelta(hours=n),
            stop=T0 + timedelta(hours=n, minutes=30),
            meter_stop_wh=2000,
        )
    table = rows(await analyst.get("/transactions.csv"))
    assert len(table) == 5
    assert len({r["id"] for r in table}) == 5


@pytest.mark.anyio
async def test_meter_values_query(api: Api, analyst: httpx.AsyncClient) -> None:
    ids = await charging_day(api)

    async def values(**params: object) -> list[dict[str, object]]:
        page = (await analyst.get("/meter-values", params=params)).json()
        assert page["total"] == len(page["items"]) or "limit" in params
        items: list[dict[str, object]] = page["items"]
        return items

    assert len(await values()) == 6
    assert len(await values(charge_point_id="CP2")) == 1
    assert len(await values(transaction_id=ids["active"])) == 4
    assert [v["value"] for v in await values(measurand="Power.Active.Import")] == ["11.0"]
    assert len(await values(connector_id=1, charge_point_id="CP1")) == 5
    assert await values(connector_id=2) == []
    window = {"from": "2026-03-01T10:00:00Z", "to": "2026-03-01T10:30:00Z"}
    assert [v["timestamp"] for v in await values(**window)] == ["2026-03-01T10:15:00Z"]
    ordered = [v["timestamp"] for v in await values()]
    assert ordered == sorted(ordered)
    page = (await analyst.get("/meter-values", params={"limit": 2, "offset": 4})).json()
    assert (page["total"], len(page["items"])) == (6, 2)


@pytest.mark.anyio
async def test_meter_values_csv(api: Api, analyst: httpx.AsyncClient) -> None:
    ids = await charging_day(api)
    table = rows(await analyst.get("/meter-values.csv", params={"transaction_id": ids["active"]}))
    assert len(table) == 4
    assert set(table[0]) >= {"timestamp", "measurand", "value", "unit", "value_normalised", "unit_normalised"}
    energy = [r for r in table if r["measurand"] == "Energy.Active.Import.Register" and r["phase"] == ""]
    assert [float(r["value_normalised"]) for r in energy] == [6500, 7250]
    assert rows(await analyst.get("/meter-values.csv", params={"charge_point_id": "NONE"})) == []


@pytest.mark.anyio
async def test_csv_cells_cannot_become_formulas(api: Api, analyst: httpx.AsyncClient) -> None:
    await seed.charge_point(api.database, "CP1")
    await seed.transaction(api.database, "CP1", T0, id_tag="=1+2")
    await seed.add(api.database, seed.meter_value("CP1", T0, -5.0))
    (row,) = rows(await analyst.get("/transactions.csv"))
    assert row["id_tag"] == "'=1+2"
    (value,) = rows(await analyst.get("/meter-values.csv"))
    assert value["value"] == "-5.0"


@pytest.mark.anyio
@pytest.mark.parametrize(
    "path",
    [
        f"/transactions/{2**63}",
        f"/transactions/{2**31}/schedule",
        f"/transactions?offset={2**63}",
        f"/transactions?connector_id={2**63}",
        f"/meter-values?transaction_id={2**63}",
        f"/meter-values?offset={2**64}",
        f"/id-tags?offset={2**63}",
        f"/commands/{2**63}",
        f"/reservations/{2**70}",
        f"/overrides?transaction_id={2**63}",
        f"/sites/{2**63}/topology",
    ],
)
async def test_numbers_beyond_the_database_columns_are_refused(api: Api, path: str) -> None:
    problem(await api.admin.get(path), 422)
