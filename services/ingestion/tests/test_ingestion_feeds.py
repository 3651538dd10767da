"""The synthetic and replay feeds through the pipeline: consistent intervals, an accelerated
live market, and restarts that resume without re-publishing anything."""

from __future__ import annotations

import math
import shutil
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pandas as pd
import pytest

from cp_common.db.pool import close_pool, create_pool
from cp_market.simulator import MarketSimulator, SimulatorConfig
from ingestion_service import SCHEMA
from ingestion_service.feeds.base import Feed
from ingestion_service.feeds.files import snapshots_from_series
from ingestion_service.feeds.replay import ReplayFeed
from ingestion_service.feeds.synthetic import SyntheticFeed
from ingestion_service.pipeline import IngestionPipeline, IngestResult

from .ingestion_testing import outbox_count, table_checksum

WALL = datetime(2024, 6, 10, 15, 20, tzinfo=UTC)  # the synthetic market's "now" at first start
ORIGIN = datetime(2024, 5, 31, tzinfo=UTC)  # midnight, ten days earlier
#: One day of the loaders' market frame (what the files feed turns into a snapshot).
FILES_COLUMNS = {
    "total_market_cap": [2.0e12],
    "btc_dominance": [50.0],
    "stablecoin_dominance": [7.0],
    "usdt_market_cap": [1.0e11],
    "fear_greed": [55.0],
    "fear_greed_label": ["Greed"],
    "stale_total_market_cap": [False],
}


async def _backfill(feed: Feed, pipeline: IngestionPipeline) -> IngestResult:
    total = IngestResult()
    async for batch in feed.backfill():
        total.merge(await pipeline.ingest(batch))
    return total


async def _stream(feed: Feed, pipeline: IngestionPipeline, steps: int) -> IngestResult:
    total = IngestResult()
    async for batch in feed.stream():
        total.merge(await pipeline.ingest(batch))
        steps -= 1
        if steps == 0:
            break
    return total


@pytest.fixture(scope="module")
async def synthetic_pool(migrated_database: Callable[[], str]) -> asyncpg.Pool:
    pool = await create_pool(migrated_database(), SCHEMA, min_size=1, max_size=3, register_metrics=False)
    yield pool
    await close_pool(pool)


def synthetic(pool: asyncpg.Pool) -> SyntheticFeed:
    return SyntheticFeed(pool, history_days=10, intraday_days=2, speed=math.inf, now=WALL)


async def test_synthetic_history_then_an_accelerated_day(synthetic_pool: asyncpg.Pool) -> None:
    pool = synthetic_pool
    pipeline = IngestionPipeline(pool, event_window=timedelta(hours=3))
    feed = synthetic(pool)
    history = await _backfill(feed, pipeline)
    by_interval = history.summary()["candles_stored_by_interval"]
    assert {iv: c["inserted"] for iv, c in by_interval.items()} == {"1d": 420, "4h": 42 * 12, "1h": 42 * 48}
    assert history.snapshots["inserted"] == 10 and feed.clock == ORIGIN + timedelta(days=10)
    # history publishes only what closed in the 3 h before the clock: 3 hours and the last 4h and day
    assert history.events["market.candles.v1"] == 42 * (3 + 1 + 1)
    # one path drives every interval: a day is exactly its 24 hours
    day = ORIGIN + timedelta(days=9)
    hours = await pool.fetch(
        "SELECT open, high, low, close FROM candles WHERE symbol = 'ETH' AND interval = '1h' "
        "AND open_time >= $1 AND open_time < $2 ORDER BY open_time",
        day,
        day + timedelta(days=1),
    )
    daily = await pool.fetchrow(
        "SELECT open, high, low, close FROM candles WHERE symbol = 'ETH' AND interval = '1d' AND open_time = $1",
        day,
    )
    assert len(hours) == 24 and daily["open"] == hours[0]["open"] and daily["close"] == hours[-1]["close"]
    assert daily["high"] == max(h["high"] for h in hours) and daily["low"] == min(h["low"] for h in hours)

    live = await _stream(feed, pipeline, steps=25)
    assert live.candle_total("inserted") == 42 * (25 + 6 + 1)  # 25 hours, six 4h candles, one day
    assert live.snapshots["inserted"] == 1 and live.events["market.snapshots.v1"] == 1
    assert live.events["market.candles.v1"] == live.candle_total("inserted")
    taken = await pool.fetchval("SELECT max(taken_at) FROM market_snapshots")
    assert taken == ORIGIN + timedelta(days=10)  # the day that closed in the stream, stamped with its date
    ranks = await pool.fetchval(
        "SELECT count(DISTINCT market_cap_rank) FROM assets WHERE source = 'synthetic'"
    )
    assert ranks == 42


async def test_a_synthetic_snapshot_is_stamped_with_its_day_like_the_files_feed(
    synthetic_pool: asyncpg.Pool,
) -> None:
    """Day D's figures carry the date D (as the files and replay feeds stamp them), not D's close."""
    simulated = MarketSimulator(SimulatorConfig(seed=11)).run("1h", start=ORIGIN).advance(11 * 24)
    rows = await synthetic_pool.fetch(
        "SELECT taken_at, total_market_cap, fear_greed FROM market_snapshots ORDER BY taken_at"
    )
    assert [r["taken_at"] for r in rows] == [ORIGIN + timedelta(days=d) for d in range(11)]
    for r in rows:
        figures = simulated.snapshots.loc[pd.Timestamp(r["taken_at"])]
        assert r["total_market_cap"] == pytest.approx(float(figures["total_market_cap"]), rel=1e-12)
        assert r["fear_greed"] == pytest.approx(float(figures["fear_greed"]))
    day = snapshots_from_series(pd.DataFrame(index=pd.DatetimeIndex([ORIGIN]), data=FILES_COLUMNS))
    assert day["taken_at"].iloc[0] == pd.Timestamp(ORIGIN)  # the files feed's stamp of the same day


async def test_a_restarted_synthetic_market_resumes_where_it_stopped(synthetic_pool: asyncpg.Pool) -> None:
    pool = synthetic_pool
    pipeline = IngestionPipeline(pool, event_window=timedelta(hours=3))
    before = {
        t: await table_checksum(pool, t, o)
        for t, o in (("candles", "symbol, interval, open_time"), ("market_snapshots", "taken_at"))
    }
    events_before = await outbox_count(pool)
    last_hour = await pool.fetchval("SELECT max(open_time) FROM candles WHERE interval = '1h'")
    last_close = await pool.fetchval(
        "SELECT close FROM candles WHERE symbol = 'BTC' AND interval = '1h' AND open_time = $1", last_hour
    )
    feed = SyntheticFeed(pool, history_days=10, intraday_days=2, speed=math.inf, now=WALL + timedelta(days=5))
    again = await _backfill(feed, pipeline)
    assert again.candle_total("inserted") == again.candle_total("updated") == 0
    assert feed.clock == last_hour + timedelta(hours=1)  # the same origin, resumed after the last hour
    # resumed from the checkpoint of the last day close (midnight), not from the origin: only the
    # hour after it was simulated and re-written
    assert again.candle_total("unchanged") == 42
    after = {
        t: await table_checksum(pool, t, o)
        for t, o in (("candles", "symbol, interval, open_time"), ("market_snapshots", "taken_at"))
    }
    assert after == before and await outbox_count(pool) == events_before
    (step,) = [b async for b in _first(feed)]
    btc = next(c for c in step.candles if c.symbol == "BTC" and c.interval == "1h")
    assert btc.open_time == last_hour + timedelta(hours=1) and btc.open == last_close  # the same path goes on


async def test_a_checkpoint_ahead_of_the_store_is_ignored(synthetic_pool: asyncpg.Pool) -> None:
    pool = synthetic_pool
    # the day-close batch was lost after its checkpoint was taken: replay the path from the origin
    await pool.execute(
        "UPDATE feed_state SET state = jsonb_set(state, '{checkpoint,time}', to_jsonb('2099-01-01T00:00:00+00:00'::text))"
    )
    feed = SyntheticFeed(pool, history_days=10, intraday_days=2, speed=math.inf, now=WALL)
    again = await _backfill(feed, IngestionPipeline(pool))
    assert again.candle_total("inserted") == again.candle_total("updated") == 0
    assert again.candle_total("unchanged") > 420 and again.snapshots["unchanged"] == 11


async def _first(feed: Feed):  # type: ignore[no-untyped-def]
    async for batch in feed.stream():
        yield batch
        return


async def test_replay_streams_stored_history_in_close_time_order(
    data_dir: Path, migrated_database: Callable[[], str], tmp_path: Path
) -> None:
    copy = tmp_path / "data"
    for relative in (
        "intraday/binance_spot_4h_2017-2026/BTCUSDT_4h.csv",
        "sentiment/alternative_me_fng/fear_greed.csv",
    ):
        (copy / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(data_dir / relative, copy / relative)
    pool = await create_pool(migrated_database(), SCHEMA, min_size=1, max_size=2, register_metrics=False)
    try:
        pipeline = IngestionPipeline(pool, event_window=timedelta(hours=0))
        start = datetime(2023, 12, 25, tzinfo=UTC)
        feed = ReplayFeed(pool, [copy], intervals=["4h"], start=start, speed=math.inf)
        history = await _backfill(feed, pipeline)
        stored = await pool.fetchval("SELECT max(open_time) FROM candles")
        assert stored == start - timedelta(hours=4) and sum(history.events.values()) == 0
        replayed = await _stream(feed, pipeline, steps=10_000)
        # 25 Dec 00:00 .. 31 Dec 16:00 (the 20:00 candle was still open in the file)
        assert replayed.candle_total("inserted") == 6 * 6 + 5 == replayed.events["market.candles.v1"]
        opened = [
            r["open_time"] for r in await pool.fetch("SELECT open_time FROM candles ORDER BY open_time")
        ]
        assert opened[-1] == datetime(2023, 12, 31, 16, tzinfo=UTC)
        assert replayed.events["market.snapshots.v1"] == 6  # the days 26..31 Dec as the clock passed them
        again = ReplayFeed(pool, [copy], intervals=["4h"], start=start, speed=math.inf)
        resumed = await _backfill(again, pipeline)
        assert resumed.candle_total("inserted") == 0 and again.start == datetime(2023, 12, 31, 20, tzinfo=UTC)
        assert (await _stream(again, pipeline, steps=10)).candle_total("inserted") == 0
    finally:
        await close_pool(pool)
