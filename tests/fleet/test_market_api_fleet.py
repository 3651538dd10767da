"""The computed market routes (indicators, batch quotes, movers) and gateway compression, through
the gateway of a port-shifted fleet running the catalog's ingestion entry on the simulated market."""

from __future__ import annotations

import math
import time
from typing import Any

import httpx
import pandas as pd
import pytest
import redis
from tests.fleet.test_fleet import FleetRun
from tests.fleet.test_ingestion_fleet import fleet

from cp_models.data import MarketData
from cp_models.features.asset import compute_asset_features

pytestmark = pytest.mark.slow
__all__ = ["fleet"]  # the module's one fleet (module scope)

QUOTES = "/api/v1/market/quotes"


def _get(fleet: FleetRun, path: str, **params: Any) -> httpx.Response:
    return httpx.get(f"{fleet.gateway}{path}", params=params, timeout=30)


def _candles(fleet: FleetRun, symbol: str, end: str) -> pd.DataFrame:
    """Every stored daily candle up to ``end``, fetched a year at a time (the route's range limit)."""
    pages: list[pd.DataFrame] = []
    last = pd.Timestamp(end)
    while True:
        first = last - pd.Timedelta(days=364)
        params = {"interval": "1d", "start": first.isoformat(), "end": last.isoformat(), "limit": 1000}
        body = _get(fleet, f"/api/v1/market/candles/{symbol}", **params).json()["data"]
        if not body["candles"]:
            break
        pages.insert(0, pd.DataFrame(body["candles"]))
        last = first - pd.Timedelta(days=1)
    frame = pd.concat(pages, ignore_index=True)
    frame["symbol"] = symbol
    return frame


def _error_fields(response: httpx.Response, status: int) -> list[str]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is False and body["error_code"] == status
    return [d["field"] for d in body.get("details") or []]


def test_indicators_equal_the_models_features_of_the_same_day(fleet: FleetRun) -> None:
    got = _get(fleet, "/api/v1/market/indicators/btc", interval="1d", period=14)
    assert got.status_code == 200, got.text
    data = got.json()["data"]
    wide = _get(fleet, "/api/v1/market/indicators/BTC", period=20).json()["data"]
    candles = _candles(fleet, "BTC", data["as_of"])
    assert data["candles"] == len(candles) and data["symbol"] == "BTC"
    features = compute_asset_features(MarketData.from_frames(candles))
    day = pd.Timestamp(data["as_of"])
    assert data["rsi"] == pytest.approx(features["rsi_14"].loc[day, "BTC"], rel=1e-9)
    assert data["macd"]["line"] / data["close"] == pytest.approx(
        features["macd_pct"].loc[day, "BTC"], rel=1e-9
    )
    if wide["as_of"] == data["as_of"]:  # no new daily candle closed in between
        bands = wide["bollinger"]
        pctb = (wide["close"] - bands["lower"]) / (bands["upper"] - bands["lower"])
        assert pctb == pytest.approx(features["bb_pctb_20"].loc[day, "BTC"], rel=1e-9)
    assert 0 <= data["rsi"] <= 100 and -100 <= data["williams_r"] <= 0
    assert all(math.isfinite(v) for v in (data["cci"], data["sma"], data["ema"], data["stochastic"]["d"]))


def _ttl_ms(fleet: FleetRun, key: str) -> int:
    client = redis.Redis.from_url(fleet.redis_url)
    try:
        return int(client.pttl(key))
    finally:
        client.close()


def test_indicators_are_cached_30_s_and_movers_300_s(fleet: FleetRun) -> None:
    _get(fleet, "/api/v1/market/indicators/ETH", period=30)
    assert 0 < _ttl_ms(fleet, "ingestion:indicators:ETH:1d:30") <= 30_000
    _get(fleet, "/api/v1/market/movers", limit=7)
    assert 30_000 < _ttl_ms(fleet, "ingestion:movers:7") <= 300_000


@pytest.mark.parametrize(
    ("path", "params", "status", "field"),
    [
        ("/api/v1/market/indicators/BTC", {"period": 4}, 422, "query.period"),
        ("/api/v1/market/indicators/BTC", {"period": 201}, 422, "query.period"),
        ("/api/v1/market/indicators/BTC", {"interval": "7m"}, 422, "query.interval"),
        ("/api/v1/market/indicators/B-TC", {}, 422, "path.symbol"),
        ("/api/v1/market/indicators/NOPE1", {}, 404, None),
        ("/api/v1/market/movers", {"limit": 4}, 422, "query.limit"),
        ("/api/v1/market/movers", {"limit": 101}, 422, "query.limit"),
    ],
)
def test_bad_input_gets_the_envelope(
    fleet: FleetRun, path: str, params: dict[str, Any], status: int, field: str | None
) -> None:
    fields = _error_fields(_get(fleet, path, **params), status)
    assert fields == ([field] if field else [])


def test_movers(fleet: FleetRun) -> None:
    got = _get(fleet, "/api/v1/market/movers", limit=5)
    assert got.status_code == 200, got.text
    data = got.json()["data"]
    gains = [a["quote"]["change_24h_pct"] for a in data["gainers"]]
    losses = [a["quote"]["change_24h_pct"] for a in data["losers"]]
    volumes = [a["quote"]["volume_24h"] for a in data["most_active"]]
    assert data["limit"] == 5 and len(data["most_active"]) == 5
    assert len(gains) <= 5 and len(losses) <= 5 and gains + losses
    assert gains == sorted(gains, reverse=True) and all(g > 0 for g in gains)
    assert losses == sorted(losses) and all(v < 0 for v in losses)
    assert volumes == sorted(volumes, reverse=True)
    everyone = _get(fleet, "/api/v1/market/assets", limit=500).json()["data"]["assets"]
    top_volume = max(a["quote"]["volume_24h"] or 0 for a in everyone)
    assert volumes[0] == pytest.approx(top_volume)


def _quotes(fleet: FleetRun, body: object) -> httpx.Response:
    return httpx.post(f"{fleet.gateway}{QUOTES}", json=body, timeout=30)


def test_batch_quotes_limits_and_rate(fleet: FleetRun) -> None:
    if time.time() % 60 > 35:  # start in a fresh minute window of the per-caller limit
        time.sleep(60.5 - time.time() % 60)
    got = _quotes(fleet, {"symbols": ["btc", "ETH", "NOPE1", "BTC"]})
    assert got.status_code == 200, got.text
    data = got.json()["data"]
    assert [q["symbol"] for q in data["quotes"]] == ["BTC", "ETH"] and data["unknown"] == ["NOPE1"]
    assert data["quotes"][0]["quote"]["price"] > 0
    bad = [
        ({"symbols": []}, "body.symbols"),
        ({"symbols": [f"S{i}" for i in range(101)]}, "body.symbols"),
        ({"symbols": ["b!"]}, "body.symbols.0"),
        ({"symbols": ["BTC"], "extra": 1}, "body.extra"),
    ]
    for body, field in bad:
        assert _error_fields(_quotes(fleet, body), 422) == [field]
    not_json = httpx.post(
        f"{fleet.gateway}{QUOTES}", content=b"{", headers={"content-type": "application/json"}, timeout=30
    )
    assert not_json.status_code in (400, 422) and not_json.json()["success"] is False
    # the batch above counted 1 to 6 calls (a body that is not JSON is refused before the count)
    allowed = 0
    while (answer := _quotes(fleet, {"symbols": ["BTC"]})).status_code == 200:
        allowed += 1
        assert allowed <= 20
    _error_fields(answer, 429)
    assert 20 - 6 <= allowed <= 20 - 1
