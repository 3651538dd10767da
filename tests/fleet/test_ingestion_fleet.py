"""`make up` with no configuration fills the fleet from the simulated market: the catalog's own
ingestion entry, started under supervisord in a temporary state dir with shifted ports, serves
candles through the gateway, and its accelerated clock keeps closing new ones."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import httpx
import pytest
import yaml
from tests.fleet.test_fleet import FleetRun, _free_offset, _state_dir

pytestmark = pytest.mark.slow

CATALOG = Path(__file__).resolve().parents[2] / "deploy" / "services.yaml"


@pytest.fixture(scope="module")
def fleet() -> Iterator[FleetRun]:
    catalog = yaml.safe_load(CATALOG.read_text())
    catalog["services"] = [s for s in catalog["services"] if s["name"] == "ingestion"]
    assert catalog["services"], "deploy/services.yaml has no ingestion entry"
    catalog_dir = Path(tempfile.mkdtemp(prefix="cp-ingestion-catalog-"))
    path = catalog_dir / "services.yaml"
    path.write_text(yaml.safe_dump(catalog))
    run = FleetRun(_state_dir("cp-ingestion-fleet-"), _free_offset(), path)
    # "no configuration": nothing of the developer's environment chooses the source
    saved = {k: os.environ.pop(k) for k in list(os.environ) if k.startswith("INGESTION_")}
    try:
        up = run.cli("up", timeout=400)
        assert up.returncode == 0, up.stdout + up.stderr + run.cli("logs", "ingestion").stdout
        yield run
    finally:
        os.environ.update(saved)
        down = run.cli("down")
        leftovers = run.leftovers()
        shutil.rmtree(catalog_dir, ignore_errors=True)
        if not leftovers:
            shutil.rmtree(run.state_dir, ignore_errors=True)
        assert down.returncode == 0, down.stderr
        assert leftovers == []


def test_candles_of_the_simulated_market_through_the_gateway(fleet: FleetRun) -> None:
    response = httpx.get(
        f"{fleet.gateway}/api/v1/market/candles/BTC", params={"interval": "1d", "limit": 100}
    )
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert data["symbol"] == "BTC" and data["count"] == 100 and data["truncated"] is True
    assert {c["source"] for c in data["candles"]} == {"synthetic"}
    detail = httpx.get(f"{fleet.gateway}/api/v1/market/assets/BTC").json()["data"]
    coverage = {c["interval"]: c["candles"] for c in detail["coverage"]}
    assert coverage["1d"] >= 400 and coverage["1h"] >= 30 * 24 and coverage["4h"] >= 30 * 6
    assets = httpx.get(f"{fleet.gateway}/api/v1/market/assets", params={"limit": 3}).json()["data"]
    assert [a["market_cap_rank"] for a in assets["assets"]] == [1, 2, 3]
    overview = httpx.get(f"{fleet.gateway}/api/v1/market/overview")
    assert overview.status_code == 200 and overview.json()["data"]["total_market_cap"] > 0


def test_errors_come_back_in_the_envelope(fleet: FleetRun) -> None:
    response = httpx.get(f"{fleet.gateway}/api/v1/market/candles/BTC", params={"interval": "7m"})
    assert response.status_code == 422
    body = response.json()
    assert body["success"] is False and body["error_code"] == 422
    assert [d["field"] for d in body["details"]] == ["query.interval"]


def test_the_accelerated_clock_closes_new_hourly_candles(fleet: FleetRun) -> None:
    def last_hour() -> datetime:
        body = httpx.get(f"{fleet.gateway}/api/v1/market/candles/ETH", params={"interval": "1h", "limit": 1})
        return datetime.fromisoformat(body.json()["data"]["candles"][-1]["open_time"])

    first = last_hour()
    deadline = time.monotonic() + 40  # one simulated hour every 10 s by default
    while last_hour() == first:
        assert time.monotonic() < deadline, "no new hourly candle was stored"
        time.sleep(1)
    assert (last_hour() - first).total_seconds() % 3600 == 0
