"""Live adapters against local fake servers (no internet): formats, errors, 429s, drops."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pandas as pd
import pytest

from cp_market.candles import validate_candle_frame
from cp_market.sources import (
    BinanceRestSource,
    BinanceWebSocketSource,
    CoinGeckoClient,
    FearGreedClient,
    RetryPolicy,
    SourceError,
    SourceRateLimited,
)
from cp_market.tests.fake_servers import T0_MS, DroppingKlineServer, FakeState, HttpServerThread, ws_kline

FAST = RetryPolicy(max_attempts=4, base_delay=0.01, max_delay=0.05, max_retry_after=5)
T0 = pd.Timestamp(T0_MS, unit="ms", tz="UTC")


@pytest.fixture(scope="module")
def state() -> FakeState:
    return FakeState()


@pytest.fixture(scope="module")
def http_server(state: FakeState) -> Iterator[HttpServerThread]:
    server = HttpServerThread(state).start()
    yield server
    server.stop()


async def test_binance_klines_paginate_and_drop_the_open_candle(http_server: HttpServerThread) -> None:
    rest = BinanceRestSource(base_url=f"{http_server.url}/binance", policy=FAST)
    try:
        end = T0 + pd.Timedelta(hours=2499)
        # "now" is inside the last hour: that candle is still open
        frame = await rest.fetch_klines("BTC", "1h", T0, end, now=end + pd.Timedelta(minutes=30))
    finally:
        await rest.aclose()
    validate_candle_frame(frame)
    assert len(frame) == 2499  # 2500 served over 3 pages, the open one dropped
    assert frame["open_time"].iloc[0] == T0 and frame["open_time"].iloc[-1] == end - pd.Timedelta(hours=1)
    assert set(frame["symbol"]) == {"BTC"} and set(frame["quote"]) == {"USDT"}
    assert frame["quote_volume"].notna().all()
    assert rest.http.used_weight is not None and rest.http.used_weight >= 6


async def test_binance_429_retry_after_is_honoured(http_server: HttpServerThread, state: FakeState) -> None:
    state.fail_plan["klines:ETHUSDT"] = [(429, {"Retry-After": "1"})]
    rest = BinanceRestSource(base_url=f"{http_server.url}/binance", policy=FAST)
    try:
        started = time.monotonic()
        frame = await rest.backfill(["ETH"], "1d", T0, T0 + pd.Timedelta(days=20))
        elapsed = time.monotonic() - started
    finally:
        await rest.aclose()
    assert len(frame) == 21 and rest.http.rate_limited == 1
    assert elapsed >= 1.0  # waited Retry-After, not the (tiny) backoff


async def test_binance_5xx_backoff_then_success(http_server: HttpServerThread, state: FakeState) -> None:
    state.fail_plan["klines:SOLUSDT"] = [(503, {}), (500, {})]
    rest = BinanceRestSource(base_url=f"{http_server.url}/binance", policy=FAST)
    try:
        frame = await rest.fetch_klines("SOL", "4h", T0, T0 + pd.Timedelta(days=1))
    finally:
        await rest.aclose()
    assert len(frame) == 7 and rest.http.retries == 2


async def test_binance_ban_and_bad_symbol_raise(http_server: HttpServerThread, state: FakeState) -> None:
    state.fail_plan["klines:BANNEDUSDT"] = [(418, {"Retry-After": "3600"})]
    rest = BinanceRestSource(base_url=f"{http_server.url}/binance", policy=FAST)
    try:
        with pytest.raises(SourceRateLimited) as banned:
            await rest.fetch_klines("BANNED", "1h", T0, T0 + pd.Timedelta(hours=3))
        assert banned.value.status == 418 and banned.value.retry_after == 3600
        with pytest.raises(SourceError) as bad:
            await rest.fetch_klines("NOPE", "1h", T0, T0 + pd.Timedelta(hours=3))
        assert bad.value.status == 400 and bad.value.body == {"code": -1121, "msg": "Invalid symbol."}
    finally:
        await rest.aclose()


async def test_retries_run_out(http_server: HttpServerThread, state: FakeState) -> None:
    state.fail_plan["klines:BTCUSDT"] = [(502, {})] * 10
    rest = BinanceRestSource(base_url=f"{http_server.url}/binance", policy=FAST)
    try:
        with pytest.raises(SourceError, match="giving up after 4 attempts"):
            await rest.fetch_klines("BTC", "1h", T0, T0 + pd.Timedelta(hours=3))
    finally:
        state.fail_plan.pop("klines:BTCUSDT", None)
        await rest.aclose()


async def test_coingecko_endpoints_and_rate_limit(http_server: HttpServerThread, state: FakeState) -> None:
    state.fail_plan["markets"] = [(429, {})]  # no Retry-After: exponential backoff
    cg = CoinGeckoClient(base_url=f"{http_server.url}/coingecko/api/v3", policy=FAST, api_key="demo")
    try:
        markets = await cg.coins_markets(per_page=2)
        snap = await cg.global_snapshot()
        cats = await cg.categories()
    finally:
        await cg.aclose()
    assert markets["symbol"].tolist() == ["BTC", "ETH"] and cg.http.rate_limited == 1
    assert markets["market_cap_rank"].tolist() == [1, 2]
    assert snap["btc_dominance"] == 47.5 and snap["total_market_cap"] == 1.73e12
    assert snap["usdt_market_cap"] == pytest.approx(1.73e12 * 0.053)
    assert snap["stablecoin_dominance"] == pytest.approx(6.7)
    assert snap["eth_dominance"] == 15.9 and snap["total_volume_24h"] == 6.0e10
    assert snap["date"] == T0
    sectors = cats.set_index("id")["sector"]
    assert sectors["meme-token"] == "meme" and sectors["decentralized-finance-defi"] == "defi"
    assert pd.isna(sectors["ftx-holdings"])  # an index tag, not a sector


async def test_coingecko_persistent_429_surfaces_the_error_body(
    http_server: HttpServerThread, state: FakeState
) -> None:
    state.fail_plan["global"] = [(429, {"Retry-After": "0"})] * 10
    cg = CoinGeckoClient(base_url=f"{http_server.url}/coingecko/api/v3", policy=FAST)
    try:
        with pytest.raises(SourceError) as err:
            await cg.global_snapshot()
    finally:
        state.fail_plan.pop("global", None)
        await cg.aclose()
    assert "giving up" in str(err.value)
    assert "Rate Limit" in str(err.value.__cause__.body["status"]["error_message"])  # type: ignore[union-attr]


async def test_fear_greed_api(http_server: HttpServerThread) -> None:
    fng = FearGreedClient(base_url=f"{http_server.url}/altme", policy=FAST)
    try:
        latest = await fng.fetch(1)
        history = await fng.fetch(0)
        with pytest.raises(SourceError, match="Invalid limit"):
            await fng.fetch(-1)
    finally:
        await fng.aclose()
    assert latest.to_dict("records") == [{"date": T0, "value": 25, "label": "Extreme Fear"}]
    assert len(history) == 5 and history["date"].is_monotonic_increasing


async def test_websocket_emits_only_closed_klines_and_survives_a_drop(
    http_server: HttpServerThread, state: FakeState
) -> None:
    minute = 60_000
    server = DroppingKlineServer(
        [
            # first connection: an open kline, two closed ones, then the socket drops
            [
                ws_kline("BTCUSDT", "1m", T0_MS, False, 100.5),
                ws_kline("BTCUSDT", "1m", T0_MS, True, 101.0),
                ws_kline("BTCUSDT", "1m", T0_MS + minute, False, 101.5),
                ws_kline("BTCUSDT", "1m", T0_MS + minute, True, 102.0),
            ],
            # after the reconnect the stream repeats a candle already emitted, then moves on
            [
                ws_kline("BTCUSDT", "1m", T0_MS + 2 * minute, True, 103.0),
                ws_kline("BTCUSDT", "1m", T0_MS + 3 * minute, False, 103.5),
                ws_kline("BTCUSDT", "1m", T0_MS + 3 * minute, True, 104.0),
            ],
        ]
    )
    url = await server.start()
    # the REST fake knows candles up to 00:02, which the gap fill fetches after the drop
    state.history_end_ms = T0_MS + 2 * minute
    rest = BinanceRestSource(base_url=f"{http_server.url}/binance", policy=FAST)
    source = BinanceWebSocketSource(["BTC"], "1m", ws_url=url, rest=rest, policy=FAST, max_reconnects=3)
    received = []
    try:

        async def collect() -> None:
            async for candle in source.stream():
                received.append(candle)
                if len(received) == 4:
                    return

        await asyncio.wait_for(collect(), timeout=20)
    finally:
        await source.aclose()
        await server.stop()
    assert server.connections == 2 and source.reconnects == 1
    assert server.paths[0] == "/stream?streams=btcusdt@kline_1m"
    times = [pd.Timestamp(c.open_time) for c in received]
    assert times == [T0 + pd.Timedelta(minutes=i) for i in range(4)]  # no duplicates, no gaps
    assert [c.close for c in received][:2] == [101.0, 102.0] and received[3].close == 104.0
    assert received[2].source == "binance" and all(c.is_closed for c in received)
    assert {c.symbol for c in received} == {"BTC"}
