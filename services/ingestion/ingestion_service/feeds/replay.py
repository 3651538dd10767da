"""``INGESTION_SOURCE=replay``: stored history played back as if it were live, at a chosen speed.

The candles of a data directory (every interval in ``INGESTION_REPLAY_INTERVALS``) are split
at the replay start: what closed before it is backfilled as history, the rest is streamed by
``cp_market``'s ``ReplayCandleSource`` in close-time order (finer intervals first at one close
time), ``speed`` times faster than it happened. The feed's clock is the replayed time; each
daily market snapshot is published when the clock reaches it. A restart resumes after the last
candle stored (the replay never re-publishes what it already wrote).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, timedelta
from pathlib import Path

import asyncpg
import pandas as pd

from cp_market.candles import interval_delta, to_utc_timestamp
from cp_market.sources import ReplayCandleSource
from ingestion_service.feeds.base import Feed, MarketBatch
from ingestion_service.feeds.batching import micro_batches
from ingestion_service.feeds.files import load_asset_frame, load_interval, load_series
from ingestion_service.storage.bulk import interval_length_sql

SOURCE = "replay"
#: Default start: this long before the end of the data.
DEFAULT_LEAD = timedelta(days=90)


class ReplayFeed(Feed):
    name = SOURCE

    def __init__(
        self,
        pool: asyncpg.Pool,
        data_dirs: Sequence[Path],
        *,
        intervals: Sequence[str] = ("1h", "4h", "1d"),
        start: object = None,
        speed: float = 3600.0,
    ) -> None:
        self.pool = pool
        self.data_dirs = list(data_dirs)
        self.intervals = list(intervals)
        self.requested_start = to_utc_timestamp(start)
        self.speed = speed
        self.start: pd.Timestamp | None = None
        self._frames: dict[str, pd.DataFrame] = {}
        self._snapshots = pd.DataFrame()

    async def _resume_point(self) -> pd.Timestamp | None:
        """The close of the last candle stored in the replayed intervals, if any."""
        value = await self.pool.fetchval(
            f"SELECT max(open_time + {interval_length_sql()}) FROM candles WHERE interval = ANY($1::text[])",  # noqa: S608
            self.intervals,
        )
        return None if value is None else pd.Timestamp(value)

    def _load(self) -> None:
        for interval in self.intervals:
            frame, _ = load_interval(self.data_dirs, interval)
            self._frames[interval] = frame
        self._snapshots, _ = load_series(self.data_dirs)

    async def backfill(self) -> AsyncIterator[MarketBatch]:
        await asyncio.to_thread(self._load)
        ends = [f["open_time"].max() + interval_delta(iv) for iv, f in self._frames.items() if not f.empty]
        if not ends:
            return
        start = self.requested_start or max(ends) - DEFAULT_LEAD
        resume = await self._resume_point()
        if resume is not None and resume > start:
            start = resume
        self.start = start
        as_of = start.to_pydatetime()
        assets = load_asset_frame(self.data_dirs)
        if assets is not None:
            yield MarketBatch(source=SOURCE, as_of=as_of, assets=assets)
        for interval, frame in self._frames.items():
            closes = frame["open_time"] + interval_delta(interval)
            yield MarketBatch(source=SOURCE, as_of=as_of, candles=frame[closes <= start])
        snapshots = self._snapshots
        yield MarketBatch(source=SOURCE, as_of=as_of, snapshots=snapshots[snapshots["taken_at"] <= start])

    async def stream(self) -> AsyncIterator[MarketBatch]:
        if self.start is None:
            return
        start = self.start
        later = [
            f[f["open_time"] + interval_delta(iv) > start] for iv, f in self._frames.items() if not f.empty
        ]
        if not later:
            return
        source = ReplayCandleSource(pd.concat(later, ignore_index=True), speed=self.speed)
        pending = self._snapshots[self._snapshots["taken_at"] > start]
        # the source yields all candles of one close time back to back, then sleeps
        async for candles in micro_batches(source.stream()):
            clock = max(c.close_time for c in candles).astimezone(UTC)
            due = pending["taken_at"] <= pd.Timestamp(clock)
            yield MarketBatch(
                source=SOURCE,
                as_of=clock,
                candles=candles,
                snapshots=pending[due] if due.any() else None,
                live=True,
                received_at=time.perf_counter(),
            )
            pending = pending[~due]
