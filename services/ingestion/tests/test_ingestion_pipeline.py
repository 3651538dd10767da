"""source -> validate -> store -> outbox on real PostgreSQL: what is refused, stored, published."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import asyncpg
import pandas as pd
import pytest
from prometheus_client import REGISTRY

from cp_common import topics
from cp_market.candles import to_candle_frame
from ingestion_service.feeds.base import MarketBatch
from ingestion_service.pipeline import IngestionPipeline
from ingestion_service.storage.snapshots import SNAPSHOT_FIELDS

from .ingestion_testing import candle, outbox_count

NOW = datetime(2024, 3, 1, 12, tzinfo=UTC)
CANDLES = topics.MARKET_CANDLES.name
SNAPSHOTS = topics.MARKET_SNAPSHOTS.name


@pytest.fixture(autouse=True)
async def empty_tables(pool: asyncpg.Pool) -> None:
    await pool.execute("TRUNCATE candles, market_snapshots, outbox, assets CASCADE")


@pytest.fixture
def pipeline(pool: asyncpg.Pool) -> IngestionPipeline:
    return IngestionPipeline(pool, event_window=timedelta(hours=6))


def rejected(reason: str) -> float:
    return REGISTRY.get_sample_value("ingestion_rejected_candles_total", {"reason": reason}) or 0.0


async def _events(pool: asyncpg.Pool, topic: str) -> list:
    rows = await pool.fetch("SELECT payload FROM outbox WHERE topic = $1 ORDER BY id", topic)
    return [topics.decode(topic, bytes(r["payload"])) for r in rows]


async def test_bad_live_candles_are_refused_counted_and_never_published(
    pipeline: IngestionPipeline, pool: asyncpg.Pool
) -> None:
    hour = NOW - timedelta(hours=1)
    good = candle("BTC", "1h", hour, 100.0)
    bad = {
        "ohlc_inconsistent": candle("ETH", "1h", hour, 100.0, high=90.0),
        "non_positive_price": candle("SOL", "1h", hour, 100.0, low=0.0),
        "misaligned_time": candle("XRP", "1h", hour + timedelta(minutes=30), 1.0),
        "missing_value": candle("ADA", "1h", hour, 1.0, volume=math.nan),
    }
    still_open = candle("BNB", "1h", NOW, 300.0)  # closes at 13:00, after the feed's clock
    flagged_open = candle("DOT", "1h", hour, 5.0, is_closed=False)
    before = {reason: rejected(reason) for reason in [*bad, "incomplete_candle"]}
    result = await pipeline.ingest(
        MarketBatch(
            source="test", as_of=NOW, candles=[good, *bad.values(), still_open, flagged_open], live=True
        )
    )
    assert result.candle_total("inserted") == 1
    assert await pool.fetchval("SELECT array_agg(symbol) FROM candles") == ["BTC"]
    for reason in bad:
        assert rejected(reason) == before[reason] + 1, reason
    assert rejected("incomplete_candle") == before["incomplete_candle"] + 2
    assert result.report.rows_read == 7 and result.report.rows_rejected == 6
    assert [e.candle.symbol for e in await _events(pool, CANDLES)] == ["BTC"]
    # the same batch again: nothing new, nothing published
    again = await pipeline.ingest(MarketBatch(source="test", as_of=NOW, candles=[good], live=True))
    assert again.candle_total("unchanged") == 1 and await outbox_count(pool, CANDLES) == 1


async def test_history_publishes_only_new_candles_inside_the_event_window(
    pipeline: IngestionPipeline, pool: asyncpg.Pool
) -> None:
    hours = [candle("BTC", "1h", NOW - timedelta(hours=h), 100.0 + h) for h in range(1, 13)]
    result = await pipeline.ingest(MarketBatch(source="test", as_of=NOW, candles=to_candle_frame(hours)))
    assert result.candle_total("inserted") == 12
    published = [e.candle.open_time.ToDatetime(tzinfo=UTC) for e in await _events(pool, CANDLES)]
    # closes within 6 h of the clock: opened 11:00 back to 06:00 (closing 12:00 .. 07:00)
    assert published == [NOW - timedelta(hours=h) for h in range(6, 0, -1)]
    kept_open = to_candle_frame([candle("SOL", "1h", NOW - timedelta(hours=3), 20.0, is_closed=False)])
    refused = await pipeline.ingest(MarketBatch(source="test", as_of=NOW, candles=kept_open))
    assert [r.reason for r in refused.report.rejections] == ["incomplete_candle"]
    corrected = [candle("BTC", "1h", NOW - timedelta(hours=1), 999.0)]
    fixed = await pipeline.ingest(MarketBatch(source="test", as_of=NOW, candles=corrected, live=True))
    assert fixed.candle_total("updated") == 1 and await outbox_count(pool, CANDLES) == 6  # no re-publish


async def test_events_follow_close_time_then_finer_interval(
    pipeline: IngestionPipeline, pool: asyncpg.Pool
) -> None:
    day = NOW.replace(hour=0) - timedelta(days=1)
    closing_at_midnight = [
        candle("ETH", "1d", day, 2000.0),
        candle("ETH", "4h", day + timedelta(hours=20), 2000.0),
        candle("BTC", "1h", day + timedelta(hours=23), 100.0),
        candle("ETH", "1h", day + timedelta(hours=23), 2000.0),
        candle("BTC", "1h", day + timedelta(hours=22), 100.0),
    ]
    await pipeline.ingest(MarketBatch(source="test", as_of=NOW, candles=closing_at_midnight, live=True))
    order = [(e.candle.symbol, e.candle.interval) for e in await _events(pool, CANDLES)]
    assert order == [("BTC", 1), ("BTC", 1), ("ETH", 1), ("ETH", 2), ("ETH", 3)]
    keys = [r["record_key"] for r in await pool.fetch("SELECT record_key FROM outbox ORDER BY id")]
    assert keys == [b"BTC", b"BTC", b"ETH", b"ETH", b"ETH"]


def _snapshot(taken_at: datetime, total: float, fear_greed: float | None = 50.0) -> dict[str, object]:
    row: dict[str, object] = {name: math.nan for name in SNAPSHOT_FIELDS}
    row.update(
        taken_at=taken_at,
        total_market_cap=total,
        btc_dominance=50.0,
        eth_dominance=17.0,
        stablecoin_dominance=6.0,
        fear_greed=fear_greed,
        fear_greed_label="Neutral",
        stale_market_cap=False,
        source="test",
    )
    return row


async def test_snapshots_publish_with_quotes_and_merge_partial_days(
    pipeline: IngestionPipeline, pool: asyncpg.Pool
) -> None:
    day = NOW.replace(hour=0)
    daily = [
        candle(s, "1d", day - timedelta(days=d), p * (1 + d / 100))
        for s, p in (("BTC", 100.0), ("ETH", 10.0))
        for d in (1, 2)
    ]
    assets = pd.DataFrame(
        {
            "symbol": ["BTC", "ETH"],
            "name": ["Bitcoin", "Ether"],
            "sector": ["layer1", "layer1"],
            "market_cap_rank": [1, 2],
        }
    )
    old, new = _snapshot(day - timedelta(days=2), 1.0e12), _snapshot(day, 1.1e12)
    await pipeline.ingest(
        MarketBatch(
            source="test",
            as_of=day + timedelta(hours=1),
            candles=daily,
            assets=assets,
            snapshots=pd.DataFrame([old, new]),
            live=False,
        )
    )
    (event,) = await _events(pool, SNAPSHOTS)  # only the one inside the 6 h window
    snapshot = event.snapshot
    assert snapshot.taken_at.ToDatetime(tzinfo=UTC) == day and snapshot.total_market_cap_usd == 1.1e12
    assert snapshot.alt_dominance_pct == pytest.approx(33.0)
    assert snapshot.market_cap_change_24h_pct == pytest.approx(10.0)
    assert [q.symbol for q in snapshot.assets] == ["BTC", "ETH"]
    assert snapshot.assets[0].price_usd == pytest.approx(101.0)  # the day closed at the snapshot
    assert snapshot.assets[0].change_24h_pct == pytest.approx(101.0 / 102.0 * 100 - 100)
    # a later file with only Fear & Greed for that day fills in, keeping the market cap
    partial = _snapshot(day, math.nan, fear_greed=80.0)
    merged = await pipeline.ingest(MarketBatch(source="test", as_of=NOW, snapshots=pd.DataFrame([partial])))
    assert merged.snapshots["updated"] == 1 and await outbox_count(pool, SNAPSHOTS) == 1
    row = await pool.fetchrow(
        "SELECT total_market_cap, fear_greed FROM market_snapshots WHERE taken_at = $1", day
    )
    assert row["total_market_cap"] == 1.1e12 and row["fear_greed"] == 80.0


async def test_unknown_symbols_get_an_asset_row(pipeline: IngestionPipeline, pool: asyncpg.Pool) -> None:
    await pipeline.ingest(
        MarketBatch(
            source="test", as_of=NOW, candles=[candle("NEWCOIN", "1h", NOW - timedelta(hours=1))], live=True
        )
    )
    row = await pool.fetchrow("SELECT name, sector, source FROM assets WHERE symbol = 'NEWCOIN'")
    assert (row["name"], row["sector"], row["source"]) == ("NEWCOIN", None, "test")
