"""Coarser candles from finer ones (1h -> 4h, 1d), never emitting a partial candle.

``resample_candles(frame, "1d")`` turns a candle frame of one finer interval into candles of
``interval``: open = first open, high = max, low = min, close = last close, volume and
quote volume summed (quote volume NaN if any part lacks it), market cap = last. A bucket is
kept only when every constituent candle is present and closed (a 1d candle needs 24 hourly
ones), so a missing hour never produces a short, wrong-looking day. Buckets are aligned on the
UTC epoch grid (4h: 00:00, 04:00, ...; 1d: 00:00), as Binance aligns them.

``CandleAggregator`` does the same for a live stream: feed it closed finer candles and it
returns the coarser candles that just completed, computed by ``resample_candles`` (one call
per batch of completions), so history built in bulk and the live stream agree bit for bit.
Feed it whole steps (all symbols of one close time) where possible: each call that completes
buckets costs one pandas resample.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from cp_market.candles import (
    CANDLE_COLUMNS,
    Candle,
    candles_from_frame,
    empty_candle_frame,
    interval_delta,
    to_candle_frame,
)


def constituents(source_interval: str, interval: str) -> int:
    """How many ``source_interval`` candles make one ``interval`` candle (e.g. 1h -> 1d: 24)."""
    src, dst = interval_delta(source_interval), interval_delta(interval)
    if dst <= src or dst % src != pd.Timedelta(0):
        raise ValueError(f"cannot build {interval} candles from {source_interval} candles")
    return int(dst // src)


def resample_candles(frame: pd.DataFrame, interval: str) -> pd.DataFrame:
    """Complete ``interval`` candles built from a frame of one finer interval."""
    if frame.empty:
        return empty_candle_frame()
    source_intervals = frame["interval"].unique()
    if len(source_intervals) != 1:
        raise ValueError(f"resample one interval at a time, got {sorted(source_intervals)}")
    need = constituents(str(source_intervals[0]), interval)
    step = interval_delta(interval)
    df = frame[frame["is_closed"]].sort_values(["symbol", "open_time"], kind="stable")
    bucket = df["open_time"].dt.floor(step)
    grouped = df.groupby([df["symbol"], bucket], sort=True)
    out = grouped.agg(
        quote=("quote", "first"),
        open=("open", "first"),
        high=("high", "max"),
        low=("low", "min"),
        close=("close", "last"),
        volume=("volume", "sum"),
        quote_volume=("quote_volume", "sum"),
        market_cap=("market_cap", "last"),
        source=("source", "first"),
        count=("close", "size"),
    )
    quote_volume_missing = df["quote_volume"].isna().groupby([df["symbol"], bucket], sort=True).any()
    out.loc[quote_volume_missing.to_numpy(), "quote_volume"] = np.nan
    out = out[out["count"] == need].drop(columns="count").reset_index()
    if out.empty:
        return empty_candle_frame()
    out["interval"] = interval
    out["is_closed"] = True
    out["quality_flags"] = ""
    return to_candle_frame(out[list(CANDLE_COLUMNS)])


class CandleAggregator:
    """Build coarser candles from a stream of closed finer candles of one interval.

    ``add(candles)`` buffers the candles and returns every coarser candle whose last
    constituent has just arrived, finer intervals' buckets first. A bucket that can never
    complete (a constituent was skipped) is dropped when its symbol moves past it.
    """

    def __init__(self, source_interval: str, intervals: Sequence[str]) -> None:
        self.source_interval = source_interval
        self.source_step = interval_delta(source_interval)
        self.intervals = sorted(intervals, key=interval_delta)
        for interval in self.intervals:
            constituents(source_interval, interval)
        # interval -> (symbol, bucket start) -> candles
        self._buffers: dict[str, dict[tuple[str, pd.Timestamp], list[Candle]]] = {
            interval: defaultdict(list) for interval in self.intervals
        }

    def add(self, candles: Iterable[Candle]) -> list[Candle]:
        completed: list[Candle] = []
        batch = [c for c in candles if c.interval == self.source_interval and c.is_closed]
        for interval in self.intervals:
            step = interval_delta(interval)
            buffers = self._buffers[interval]
            due: list[tuple[str, pd.Timestamp]] = []
            for candle in batch:
                opened = pd.Timestamp(candle.open_time)
                key = (candle.symbol, opened.floor(step))
                buffers[key].append(candle)
                if opened + self.source_step == key[1] + step:
                    due.append(key)
            if not due:
                continue
            ready = [c for key in due for c in buffers.pop(key, [])]
            # a symbol's older buckets can never complete any more
            closed_until = {symbol: start for symbol, start in due}
            for key in [k for k in buffers if k[0] in closed_until and k[1] < closed_until[k[0]]]:
                del buffers[key]
            completed.extend(candles_from_frame(resample_candles(to_candle_frame(ready), interval)))
        return completed
