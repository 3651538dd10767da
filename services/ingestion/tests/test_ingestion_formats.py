"""Every file format of the shared data goes through the service's backfill path (real files,
copied), and the known traps come out right in the stored rows."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest

from cp_common.db.pool import close_pool, create_pool
from ingestion_service import SCHEMA
from ingestion_service.feeds.files import FilesFeed
from ingestion_service.pipeline import IngestionPipeline, IngestResult

# one real file (or more) per format the importers recognise
FILES = {
    "binance_klines (timestamp,...) + incomplete last candle": "daily/binance_spot_2017-2026/BTCUSDT_1d.csv",
    "binance_klines (time,...,timestamp) + stale partials + LUNA reuse": "daily/binance_spot_2017-2022/LUNAUSDT_1d.csv",
    "binance_klines (date,...,ticker) + LUNA reuse": "intraday/binance_spot_1h_2021-2023/LUNAUSDT_1h.csv",
    "binance_klines 4h": "intraday/binance_spot_4h_2017-2026/ETHUSDT_4h.csv",
    "cryptodatadownload (newest first, duplicates)": "intraday/cryptodatadownload_binance_1h_2017-2021/Binance_ETHUSDT_1h.csv",
    "cmc_daily": "daily/cmc_kaggle_2013-2021/coin_Aave.csv",
    "yahoo_daily": "daily/yahoo_usd_2014-2025/AVAX-USD_1d.csv",
    "coingecko_global total": "market/coingecko_global_2018-2025/total_mcap.csv",
    "coingecko_global btc": "market/coingecko_global_2018-2025/btc_dominance.csv",
    "coingecko_global stablecoins": "market/coingecko_global_2018-2025/stablecoin_supply.csv",
    "fear_greed (Date,value)": "sentiment/alternative_me_fng/fear_greed.csv",
    "fear_greed (Timestamp,Value,Classification,Date)": "sentiment/alternative_me_fng/fear_greed_index.csv",
    "dataset_coins": "metadata/dataset_coins.csv",
    "coingecko_categories": "metadata/coingecko_coins_categories_top3000_2025-02.csv",
}


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture(scope="module")
async def stored(
    data_dir: Path, migrated_database: Callable[[], str], tmp_path_factory: pytest.TempPathFactory
) -> tuple[asyncpg.Pool, IngestResult]:
    copy = tmp_path_factory.mktemp("formats")
    for relative in FILES.values():
        target = copy / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(data_dir / relative, target)
    pool = await create_pool(migrated_database(), SCHEMA, min_size=1, max_size=2, register_metrics=False)
    pipeline = IngestionPipeline(pool)
    result = IngestResult()
    async for batch in FilesFeed([copy]).backfill():
        result.merge(await pipeline.ingest(batch))
    yield pool, result
    await close_pool(pool)


async def test_every_format_reaches_the_store(stored: tuple[asyncpg.Pool, IngestResult]) -> None:
    pool, result = stored
    assert len(result.report.files) == len(FILES) - 2  # the two metadata files are not row imports
    sources = {r["source"] for r in await pool.fetch("SELECT DISTINCT source FROM candles")}
    assert sources == {"binance", "cryptodatadownload", "cmc", "yahoo"}
    intervals = {r["interval"] for r in await pool.fetch("SELECT DISTINCT interval FROM candles")}
    assert intervals == {"1h", "4h", "1d"}
    snapshots = await pool.fetchrow(
        "SELECT count(*) FILTER (WHERE total_market_cap IS NOT NULL) AS caps, "
        "count(*) FILTER (WHERE btc_dominance IS NOT NULL) AS btc, "
        "count(*) FILTER (WHERE fear_greed IS NOT NULL AND fear_greed_label IS NOT NULL) AS fng "
        "FROM market_snapshots"
    )
    assert snapshots["caps"] > 2000 and snapshots["btc"] > 2000 and snapshots["fng"] > 2000
    aave = await pool.fetchrow("SELECT name, sector, market_cap_rank FROM assets WHERE symbol = 'AAVE'")
    assert aave["name"] == "Aave" and aave["sector"] == "defi" and aave["market_cap_rank"] > 0
    assert result.report.rows_read == result.report.rows_accepted + result.report.rows_rejected


async def test_the_incomplete_last_candle_is_never_stored(stored: tuple[asyncpg.Pool, IngestResult]) -> None:
    pool, result = stored
    last = await pool.fetchval("SELECT max(open_time) FROM candles WHERE symbol = 'BTC' AND interval = '1d'")
    assert last == utc("2023-12-30")  # the file's last row (2023-12-31) was still open at download time
    (rejection,) = [r for r in result.report.rejections if r.file.endswith("BTCUSDT_1d.csv")]
    assert rejection.reason == "incomplete_candle" and rejection.open_time.startswith("2023-12-31")
    assert rejection.line == 2329


async def test_newest_first_duplicated_file_stores_one_sorted_row_per_hour(
    stored: tuple[asyncpg.Pool, IngestResult],
) -> None:
    pool, result = stored
    rows = await pool.fetchrow(
        "SELECT count(*) AS n, min(open_time) AS first, max(open_time) AS last FROM candles "
        "WHERE symbol = 'ETH' AND interval = '1h'"
    )
    duplicates = [r for r in result.report.rejections if r.reason == "duplicate_superseded"]
    assert len(duplicates) == 2649 and result.report.out_of_order_rows > 30000
    assert rows["n"] == 36062 - 2649 - 1  # rows read - superseded duplicates - the open candle
    assert rows["first"] == utc("2017-08-17 04:00") and rows["last"] == utc("2021-06-09 23:00")
    # the overlap appears twice; the millisecond-format row (line 4831) beats the older one
    close = await pool.fetchval(
        "SELECT close FROM candles WHERE symbol = 'ETH' AND interval = '1h' AND open_time = $1",
        utc("2020-11-20 07:00"),
    )
    assert close == 491.47
    assert any(r.line == 4832 and r.detail == "conflict" for r in duplicates)


async def test_a_reused_ticker_is_stored_as_two_assets(stored: tuple[asyncpg.Pool, IngestResult]) -> None:
    pool, _ = stored
    collapse = utc("2022-05-28")
    for interval in ("1d", "1h"):
        luna = await pool.fetchval(
            "SELECT max(open_time) FROM candles WHERE symbol = 'LUNA' AND interval = $1", interval
        )
        luna2 = await pool.fetchval(
            "SELECT min(open_time) FROM candles WHERE symbol = 'LUNA2' AND interval = $1", interval
        )
        assert luna < collapse <= luna2
    # 13,886 rows renamed, the last of them still open at download time
    assert (
        await pool.fetchval("SELECT count(*) FROM candles WHERE symbol = 'LUNA2' AND interval = '1h'")
        == 13885
    )
    assert await pool.fetchval("SELECT name FROM assets WHERE symbol = 'LUNA2'")


async def test_stale_partial_candles_of_the_bot_export_are_left_out(
    stored: tuple[asyncpg.Pool, IngestResult],
) -> None:
    pool, result = stored
    stale = [r for r in result.report.rejections if r.reason == "stale_partial_candle"]
    assert len(stale) == 8 and all(r.file.endswith("LUNAUSDT_1d.csv") for r in stale)
    stored_days = await pool.fetch(
        "SELECT open_time FROM candles WHERE symbol = 'LUNA' AND interval = '1d' AND open_time = ANY($1)",
        [datetime.fromisoformat(r.open_time) for r in stale],
    )
    assert stored_days == []


async def test_usd_volume_sources_and_flags_survive(stored: tuple[asyncpg.Pool, IngestResult]) -> None:
    pool, _ = stored
    aave = await pool.fetch(
        "SELECT quality_flags, quote FROM candles WHERE symbol = 'AAVE' AND interval = '1d' ORDER BY open_time"
    )
    assert len(aave) == 275 and {r["quote"] for r in aave} == {"USD"}
    assert all("volume_derived" in r["quality_flags"] for r in aave)
    assert "zero_volume" in aave[0]["quality_flags"]
