"""History from data directories, through the ``cp_market`` importers (every format they know).

``directory_batches`` yields, one at a time (memory stays bounded by one interval):

1. the assets (``dataset_coins.csv`` sectors and ranks) when a directory has them;
2. per interval, the candles of every directory, each merged by source priority
   (``binance > cryptodatadownload > cmc > yahoo``), with the importers' ``ImportReport``;
3. the market-wide daily series (total market cap, BTC and stablecoin dominance, Fear & Greed).

The importers already rejected what they had to (reason codes in the report): duplicates,
incomplete last candles, stale partial candles, reused symbols are renamed, newest-first files
are sorted. Files carry no capture time, so ``as_of`` is the wall clock: history never falls in
the event window, and a backfill publishes no events.

``FilesFeed`` is ``INGESTION_SOURCE=files``: it backfills the directory once and then idles.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from cp_market.candles import empty_candle_frame, to_utc_timestamp
from cp_market.dataset import load_assets, load_candles, merge_sources, read_market_series
from cp_market.importers.scanner import KIND_ASSETS, KIND_FEAR_GREED, KIND_GLOBAL, scan_directory
from cp_market.report import ImportReport
from ingestion_service.feeds.base import Feed, MarketBatch
from ingestion_service.settings import STORED_INTERVALS
from ingestion_service.storage.snapshots import SNAPSHOT_FIELDS

log = logging.getLogger(__name__)
SOURCE = "files"


def snapshots_from_series(series: pd.DataFrame, *, source: str = SOURCE) -> pd.DataFrame:
    """The loaders' daily market frame (index = UTC date) as snapshot rows taken that day."""
    if series.empty:
        return pd.DataFrame(columns=list(SNAPSHOT_FIELDS))
    out = pd.DataFrame(
        {
            "taken_at": series.index,
            "total_market_cap": series["total_market_cap"].to_numpy(),
            "total_volume_24h": float("nan"),
            "btc_dominance": series["btc_dominance"].to_numpy(),
            "eth_dominance": float("nan"),
            "stablecoin_dominance": series["stablecoin_dominance"].to_numpy(),
            "usdt_market_cap": series["usdt_market_cap"].to_numpy(),
            "fear_greed": series["fear_greed"].to_numpy(),
            "fear_greed_label": series["fear_greed_label"].to_numpy(),
            "stale_market_cap": series["stale_total_market_cap"].to_numpy(),
            "source": source,
        }
    )
    return out.loc[:, list(SNAPSHOT_FIELDS)]


def _bounded(frame: pd.DataFrame, start: object, end: object) -> pd.DataFrame:
    lo, hi = to_utc_timestamp(start), to_utc_timestamp(end)
    if lo is not None:
        frame = frame[frame.index >= lo]
    if hi is not None:
        frame = frame[frame.index <= hi]
    return frame


def load_interval(
    data_dirs: Sequence[Path], interval: str, *, start: object = None, end: object = None
) -> tuple[pd.DataFrame, ImportReport]:
    """Candles of one interval from every directory, merged by source priority."""
    report = ImportReport()
    frames = []
    for data_dir in data_dirs:
        frame, part = load_candles(data_dir, interval=interval, start=start, end=end)
        report.merge(part)
        if not frame.empty:
            frames.append(frame)
    if not frames:
        return empty_candle_frame(), report
    if len(frames) == 1:
        return frames[0], report
    return merge_sources(pd.concat(frames, ignore_index=True), report=report), report


def load_series(
    data_dirs: Sequence[Path], *, start: object = None, end: object = None
) -> tuple[pd.DataFrame, ImportReport]:
    report = ImportReport()
    merged: pd.DataFrame | None = None
    for data_dir in data_dirs:
        scan = scan_directory(data_dir)
        if not (scan.of_kind(KIND_GLOBAL) or scan.of_kind(KIND_FEAR_GREED)):
            continue
        series, part = read_market_series(data_dir)
        report.merge(part)
        merged = series if merged is None else merged.combine_first(series)
    if merged is None:
        return snapshots_from_series(pd.DataFrame()), report
    return snapshots_from_series(_bounded(merged, start, end)), report


def load_asset_frame(data_dirs: Sequence[Path]) -> pd.DataFrame | None:
    for data_dir in data_dirs:
        if scan_directory(data_dir).of_kind(KIND_ASSETS):
            return load_assets(data_dir)
    return None


def directory_batches(
    data_dirs: Sequence[Path],
    *,
    intervals: Sequence[str] = STORED_INTERVALS,
    start: object = None,
    end: object = None,
    as_of: datetime | None = None,
) -> Iterator[MarketBatch]:
    """Assets, then one batch per interval, then the market series (blocking; run in a thread)."""
    as_of = as_of or datetime.now(UTC)
    assets = load_asset_frame(data_dirs)
    if assets is not None:
        yield MarketBatch(source=SOURCE, as_of=as_of, assets=assets, report=ImportReport())
    for interval in intervals:
        frame, report = load_interval(data_dirs, interval, start=start, end=end)
        yield MarketBatch(source=SOURCE, as_of=as_of, candles=frame, report=report)
    snapshots, report = load_series(data_dirs, start=start, end=end)
    yield MarketBatch(source=SOURCE, as_of=as_of, snapshots=snapshots, report=report)


async def iterate_in_thread(batches: Iterator[MarketBatch]) -> AsyncIterator[MarketBatch]:
    """Drive a blocking batch iterator from a worker thread, one batch at a time."""
    done = object()
    while True:
        batch = await asyncio.to_thread(next, batches, done)
        if batch is done:
            return
        yield batch  # type: ignore[misc]


class FilesFeed(Feed):
    """``INGESTION_SOURCE=files``: backfill a data directory at start-up, nothing live."""

    name = "files"

    def __init__(
        self,
        data_dirs: Sequence[Path],
        *,
        intervals: Sequence[str] = STORED_INTERVALS,
        start: object = None,
        end: object = None,
    ) -> None:
        self.data_dirs = list(data_dirs)
        self.intervals = list(intervals)
        self.start = start
        self.end = end

    async def backfill(self) -> AsyncIterator[MarketBatch]:
        batches = directory_batches(self.data_dirs, intervals=self.intervals, start=self.start, end=self.end)
        async for batch in iterate_in_thread(batches):
            yield batch

    async def stream(self) -> AsyncIterator[MarketBatch]:
        return
        yield  # pragma: no cover - an empty async generator
