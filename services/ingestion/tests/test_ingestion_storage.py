"""The candle store on real PostgreSQL: upsert semantics on both write paths, queries."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import asyncpg
import pandas as pd
import pytest

from cp_market.candles import to_candle_frame
from cp_market.simulator import MarketSimulator
from ingestion_service.storage import candles as candle_store
from ingestion_service.storage.bulk import (
    COPY_THRESHOLD,
    CandleRows,
    upsert_candles,
    upsert_candles_executemany,
)

from .ingestion_testing import candle

T0 = datetime(2024, 1, 1, tzinfo=UTC)


@pytest.fixture(autouse=True)
async def empty_candles(pool: asyncpg.Pool) -> None:
    await pool.execute("TRUNCATE candles")


async def _upsert(pool: asyncpg.Pool, rows: CandleRows, **kwargs):  # type: ignore[no-untyped-def]
    async with pool.acquire() as conn, conn.transaction():
        return await upsert_candles(conn, rows, **kwargs)


async def test_small_batches_insert_then_skip_identical_then_update(pool: asyncpg.Pool) -> None:
    batch = [candle("BTC", open_time=T0 + timedelta(hours=i), close=100 + i) for i in range(3)]
    first = await _upsert(pool, CandleRows.from_candles(batch))
    assert (first.inserted, first.updated, first.unchanged) == (3, 0, 0)
    stamp = await pool.fetchval("SELECT max(updated_at) FROM candles")
    again = await _upsert(pool, CandleRows.from_candles(batch))
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 3)
    assert await pool.fetchval("SELECT max(updated_at) FROM candles") == stamp  # nothing rewritten
    corrected = [*batch[:2], candle("BTC", open_time=T0 + timedelta(hours=2), close=150.0)]
    fixed = await _upsert(pool, CandleRows.from_candles(corrected))
    assert (fixed.inserted, fixed.updated, fixed.unchanged) == (0, 1, 2)
    assert fixed.counts == {"1h": {"inserted": 0, "updated": 1, "unchanged": 2}}
    assert (
        await pool.fetchval("SELECT close FROM candles WHERE open_time = $1", T0 + timedelta(hours=2)) == 150
    )


async def test_a_lower_priority_source_never_overwrites(pool: asyncpg.Pool) -> None:
    await _upsert(pool, CandleRows.from_candles([candle("ETH", "1d", T0, 2000.0, source="binance")]))
    yahoo = await _upsert(pool, CandleRows.from_candles([candle("ETH", "1d", T0, 2010.0, source="yahoo")]))
    assert yahoo.unchanged == 1
    assert await pool.fetchval("SELECT source FROM candles WHERE symbol = 'ETH'") == "binance"
    await pool.execute("UPDATE candles SET source = 'cmc'")
    better = await _upsert(pool, CandleRows.from_candles([candle("ETH", "1d", T0, 2020.0, source="binance")]))
    assert better.updated == 1
    assert await pool.fetchval("SELECT close FROM candles WHERE symbol = 'ETH'") == 2020.0


async def test_copy_path_matches_the_small_path_and_stores_nan_as_null(pool: asyncpg.Pool) -> None:
    market = MarketSimulator(seed=3).simulate("1h", periods=30, start="2024-01-01")
    frame = market.candles.copy()
    frame.loc[frame.index[:5], "quote_volume"] = math.nan
    assert len(frame) >= COPY_THRESHOLD
    rows = CandleRows.from_frame(frame)
    first = await _upsert(pool, rows, publish_after=T0 + timedelta(hours=28))
    assert first.inserted == len(frame) and first.updated == 0
    # only the candles closing after the cutoff (the last two steps) are "new and live"
    assert len(first.new_live_keys) == 2 * frame["symbol"].nunique()
    assert {k[2] for k in first.new_live_keys} == {T0 + timedelta(hours=28), T0 + timedelta(hours=29)}
    assert await pool.fetchval("SELECT count(*) FROM candles WHERE quote_volume IS NULL") == 5
    second = await _upsert(pool, rows, publish_after=T0)
    assert second.unchanged == len(frame) and second.new_live_keys == []
    # the staging table is empty again and reusable in the same session
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM candle_staging") == 0


async def test_duplicate_keys_in_a_batch_keep_the_last_row(pool: asyncpg.Pool) -> None:
    rows = CandleRows.from_candles([candle("SOL", close=10.0), candle("SOL", close=11.0)])
    outcome = await _upsert(pool, rows)
    assert outcome.inserted == 1
    assert await pool.fetchval("SELECT close FROM candles WHERE symbol = 'SOL'") == 11.0


async def test_the_database_refuses_what_validation_must_have_stopped(pool: asyncpg.Pool) -> None:
    rows = CandleRows.from_candles([candle("BAD", low=200.0, high=100.0)])
    with pytest.raises(asyncpg.CheckViolationError):
        await _upsert(pool, rows)


async def test_executemany_baseline_writes_the_same_rows(pool: asyncpg.Pool) -> None:
    batch = [candle("ADA", open_time=T0 + timedelta(hours=i), close=1 + i) for i in range(4)]
    async with pool.acquire() as conn, conn.transaction():
        await upsert_candles_executemany(conn, CandleRows.from_candles(batch))
    assert await pool.fetchval("SELECT count(*) FROM candles WHERE quote_volume IS NOT NULL") == 4


async def test_latest_candles_for_many_symbols_and_ranges(pool: asyncpg.Pool) -> None:
    frame = MarketSimulator(seed=5).simulate("1d", periods=40, start="2024-01-01").candles
    await _upsert(pool, CandleRows.from_frame(frame))
    series = await candle_store.latest_candles(pool, ["ETH", "NOPE", "BTC"], "1d", 10)
    assert list(series) == ["ETH", "BTC"]  # request order, unknown left out
    btc = series["BTC"]
    assert [r["open_time"] for r in btc] == sorted(r["open_time"] for r in btc) and len(btc) == 10
    assert btc[-1]["open_time"] == pd.Timestamp("2024-02-09", tz="UTC")
    end = datetime(2024, 1, 20, tzinfo=UTC)
    capped = await candle_store.latest_candles(pool, ["BTC"], "1d", 3, end=end)
    assert [r["open_time"].day for r in capped["BTC"]] == [18, 19, 20]
    rows, truncated = await candle_store.candle_range(pool, "BTC", "1d", T0, end, limit=5)
    assert truncated and [r["open_time"].day for r in rows] == [16, 17, 18, 19, 20]
    rows, truncated = await candle_store.candle_range(pool, "BTC", "1d", T0, end, limit=100)
    assert not truncated and len(rows) == 20
    assert await candle_store.latest_open_time(pool, "1d") == pd.Timestamp("2024-02-09", tz="UTC")


async def test_coverage_and_gaps(pool: asyncpg.Pool) -> None:
    frame = to_candle_frame([candle("XRP", "4h", T0 + timedelta(hours=4 * i)) for i in (0, 1, 2, 5, 6)])
    await _upsert(pool, CandleRows.from_frame(frame))
    (cov,) = await candle_store.coverage(pool)
    assert (cov.symbol, cov.interval, cov.candles, cov.expected, cov.missing) == ("XRP", "4h", 5, 7, 2)
    (gap,) = await candle_store.gaps(pool)
    assert (
        gap.after == T0 + timedelta(hours=8) and gap.before == T0 + timedelta(hours=20) and gap.missing == 2
    )


async def test_a_partly_stored_bulk_batch_merges_and_a_lost_race_falls_back(
    pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    frame = MarketSimulator(seed=8).simulate("4h", periods=40, start="2024-01-01").candles
    older, newer = frame[frame["open_time"] < "2024-01-04"], frame
    await _upsert(pool, CandleRows.from_frame(older))
    both = await _upsert(pool, CandleRows.from_frame(newer), publish_after=T0 + timedelta(days=6))
    assert both.inserted == len(newer) - len(older) and both.unchanged == len(older)
    assert len(both.new_live_keys) == 42 * 4  # the last four 4h candles close after the cutoff
    # a concurrent writer stored the keys between the span check and the COPY: the direct COPY
    # fails on the key, its savepoint rolls back, and the merge takes over
    from ingestion_service.storage import bulk

    async def no_overlap(conn, rows):  # type: ignore[no-untyped-def]
        return False

    monkeypatch.setattr(bulk, "_overlaps_stored", no_overlap)
    raced = await _upsert(pool, CandleRows.from_frame(newer))
    assert raced.unchanged == len(newer) and raced.inserted == 0
