"""The live feed through the service path against local fake Binance / CoinGecko / alternative.me
servers (``cp_market``'s, in the providers' formats): 429s, a dropped WebSocket, one poller."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from cp_common.cache import create_redis
from cp_market.sources import RetryPolicy
from cp_market.tests.fake_servers import T0_MS, DroppingKlineServer, FakeState, HttpServerThread, ws_kline
from cp_testing.waiting import eventually
from ingestion_service.feeds.live import LiveEndpoints, LiveFeed
from ingestion_service.pipeline import IngestionPipeline
from ingestion_service.runner import FeedRunner

T0 = datetime.fromtimestamp(T0_MS / 1000, UTC)
HOUR_MS = 3_600_000
CLOCK = T0 + timedelta(hours=100, minutes=30)  # "now" for the feed: 2024-01-05 04:30
FAST = RetryPolicy(max_attempts=4, base_delay=0.01, max_delay=0.05, max_retry_after=5)


@pytest.fixture(scope="module")
def state() -> FakeState:
    return FakeState(history_end_ms=T0_MS + 92 * HOUR_MS)


@pytest.fixture(scope="module")
def http_server(state: FakeState) -> Iterator[HttpServerThread]:
    server = HttpServerThread(state).start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
async def empty_tables(pool: asyncpg.Pool) -> None:
    await pool.execute("TRUNCATE candles, market_snapshots, outbox, assets CASCADE")


def live_feed(http_server: HttpServerThread, ws_url: str = "ws://127.0.0.1:9", **kwargs: object) -> LiveFeed:
    endpoints = LiveEndpoints(
        binance_rest=f"{http_server.url}/binance",
        binance_ws=ws_url,
        coingecko=f"{http_server.url}/coingecko/api/v3",
        fear_greed=f"{http_server.url}/altme",
    )
    options: dict[str, object] = {
        "symbols": ["BTC", "ETH"],
        "history_days": 3,
        "intraday_days": 1,
        "policy": FAST,
        "stream_intervals": ["1h"],
        "clock": lambda: CLOCK,
        "snapshot_interval": 3600,
        "universe_interval": 3600,
    }
    options.update(kwargs)
    return LiveFeed(endpoints, **options)  # type: ignore[arg-type]


async def test_backfill_through_429s_stores_universe_candles_and_snapshot(
    pool: asyncpg.Pool, http_server: HttpServerThread, state: FakeState
) -> None:
    state.fail_plan["markets"] = [(429, {"Retry-After": "0"})]
    state.fail_plan["global"] = [(429, {})]
    state.fail_plan["klines:ETHUSDT"] = [(429, {"Retry-After": "1"})]
    # the feed's clock is inside the exchange's last hour (92:00-93:00): that candle is still open
    feed = live_feed(http_server, clock=lambda: T0 + timedelta(hours=92, minutes=30))
    pipeline = IngestionPipeline(pool)
    rejections = []
    try:
        async for batch in feed.backfill():
            rejections.extend((await pipeline.ingest(batch)).report.rejections)
    finally:
        await feed.aclose()
    assert feed.coingecko.http.rate_limited == 2 and feed.rest.http.rate_limited == 1
    btc = await pool.fetchrow("SELECT name, sector, market_cap_rank FROM assets WHERE symbol = 'BTC'")
    assert (btc["name"], btc["sector"], btc["market_cap_rank"]) == ("Bitcoin", "layer1", 1)
    daily = await pool.fetch(
        "SELECT open_time FROM candles WHERE symbol = 'ETH' AND interval = '1d' ORDER BY 1"
    )
    assert [r["open_time"] for r in daily] == [T0 + timedelta(days=d) for d in (1, 2)]
    last_hour = await pool.fetchval("SELECT max(open_time) FROM candles WHERE interval = '1h'")
    assert last_hour == T0 + timedelta(hours=91)
    still_open = sorted((r.symbol, r.open_time) for r in rejections if r.reason == "incomplete_candle")
    day3, hour92 = (T0 + timedelta(days=3)).isoformat(), (T0 + timedelta(hours=92)).isoformat()
    # per symbol: the day opened at 72:00, the 4h and the 1h candles opened at 92:00
    assert still_open == [(s, t) for s in ("BTC", "ETH") for t in (day3, hour92, hour92)]
    snapshot = await pool.fetchrow("SELECT * FROM market_snapshots")
    assert snapshot["taken_at"] == T0 and snapshot["btc_dominance"] == 47.5
    assert snapshot["eth_dominance"] == 15.9 and snapshot["fear_greed"] == 25
    assert snapshot["fear_greed_label"] == "Extreme Fear" and snapshot["total_volume_24h"] == 6.0e10


async def test_stream_survives_a_dropped_websocket_without_gaps_or_duplicates(
    pool: asyncpg.Pool, http_server: HttpServerThread
) -> None:
    at = T0_MS + 90 * HOUR_MS
    server = DroppingKlineServer(
        [
            [ws_kline("BTCUSDT", "1h", at, False, 100.5), ws_kline("BTCUSDT", "1h", at, True, 101.0)],
            # after the reconnect: 91:00 was missed (the REST gap fill brings it), 92:00 arrives
            [
                ws_kline("BTCUSDT", "1h", at + 2 * HOUR_MS, True, 103.0),
                ws_kline("BTCUSDT", "1h", at + 3 * HOUR_MS, False, 104.0),
            ],
        ]
    )
    url = await server.start()
    feed = live_feed(http_server, url, symbols=["BTC"])
    pipeline = IngestionPipeline(pool)
    stored: list[datetime] = []
    try:

        async def run() -> None:
            async for batch in feed.stream():
                await pipeline.ingest(batch)
                rows = await pool.fetch("SELECT open_time FROM candles WHERE interval = '1h' ORDER BY 1")
                stored[:] = [r["open_time"] for r in rows]
                if T0 + timedelta(hours=92) in stored:
                    return

        await asyncio.wait_for(run(), timeout=30)
    finally:
        await feed.aclose()
        await server.stop()
    assert server.connections == 2
    assert stored == [T0 + timedelta(hours=h) for h in (90, 91, 92)]
    assert (
        await pool.fetchval("SELECT close FROM candles WHERE open_time = $1", T0 + timedelta(hours=90))
        == 101.0
    )
    keys = await pool.fetch("SELECT record_key FROM outbox WHERE topic = 'market.candles.v1'")
    assert len(keys) == 3  # each closed candle published once; the open kline never


async def test_only_one_replica_polls(
    pool: asyncpg.Pool, http_server: HttpServerThread, redis_url: str, unique_name: Callable[[str], str]
) -> None:
    clients = [create_redis(redis_url), create_redis(redis_url)]
    lock = unique_name("ingestion-live-lock")
    runners = [
        FeedRunner(
            IngestionPipeline(pool), live_feed(http_server), redis=client, lock_ttl=3.0, lock_name=lock
        )
        for client in clients
    ]
    tasks = [asyncio.create_task(r.run()) for r in runners]
    try:
        await eventually(lambda: _any_backfilled(runners), within=20, what="a leader's backfill")
        await asyncio.sleep(2.0)
        leaders = [r for r in runners if r.backfilled.is_set()]
        assert len(leaders) == 1, "both replicas polled"
        follower = runners[1 - runners.index(leaders[0])]
        tasks[runners.index(leaders[0])].cancel()  # the leader dies; its lock expires after the TTL
        await eventually(lambda: _set(follower), within=20, what="the follower taking over")
    finally:
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for client in clients:
            await client.aclose()


async def _any_backfilled(runners: list[FeedRunner]) -> bool:
    return any(r.backfilled.is_set() for r in runners)


async def _set(runner: FeedRunner) -> bool:
    return runner.backfilled.is_set()


def test_a_singleton_feed_needs_redis(http_server: HttpServerThread) -> None:
    with pytest.raises(ValueError, match="needs Redis"):
        FeedRunner(IngestionPipeline(None), live_feed(http_server), redis=None)  # type: ignore[arg-type]
