"""Replay stored history as if it were live, at a chosen speed.

Candles are emitted in order of their close time (``open_time + interval``; at the same
close time shorter intervals first, then by symbol); between two
close times the source sleeps ``real gap / speed`` seconds (``speed=math.inf`` never
sleeps). Use it to drive the live fleet or a paper-trading run from the shared data
(``ReplayCandleSource.from_data_dir``) or from any candle frame.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator, Iterable
from pathlib import Path

import pandas as pd

from cp_market.candles import Candle, candles_from_frame, interval_delta, to_candle_frame, to_utc_timestamp
from cp_market.sources.base import CandleSource


class ReplayCandleSource(CandleSource):
    name = "replay"

    def __init__(self, frame: pd.DataFrame, *, speed: float = math.inf, start: object = None) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        frame = to_candle_frame(frame)
        self.frame = frame[frame["is_closed"]].reset_index(drop=True)
        self.speed = speed
        self.start = to_utc_timestamp(start)

    @classmethod
    def from_data_dir(
        cls,
        data_dir: Path | str,
        *,
        interval: str = "1h",
        symbols: Iterable[str] | None = None,
        start: object = None,
        end: object = None,
        speed: float = math.inf,
    ) -> ReplayCandleSource:
        from cp_market.dataset import load_candles

        frame, _ = load_candles(data_dir, interval=interval, symbols=symbols, start=start, end=end)
        return cls(frame, speed=speed)

    def _ordered(self) -> pd.DataFrame:
        f = self.frame
        if self.start is not None:
            f = f[f["open_time"] >= self.start]
        steps = pd.to_timedelta(f["interval"].map(lambda iv: interval_delta(iv)))
        f = f.assign(_close=f["open_time"] + steps, _step=steps)
        # at one close time, finer candles first (the last hour of a day before the day)
        return f.sort_values(["_close", "_step", "symbol"], kind="stable").drop(columns="_step")

    async def stream(self) -> AsyncIterator[Candle]:
        ordered = self._ordered()
        previous: pd.Timestamp | None = None
        for close_time, group in ordered.groupby("_close", sort=True):
            if previous is not None and math.isfinite(self.speed):
                await asyncio.sleep((close_time - previous).total_seconds() / self.speed)
            previous = close_time
            for candle in candles_from_frame(group.drop(columns="_close")):
                yield candle

    async def backfill(
        self, symbols: Iterable[str], interval: str, start: object, end: object
    ) -> pd.DataFrame:
        wanted = {s.upper() for s in symbols}
        t0, t1 = to_utc_timestamp(start), to_utc_timestamp(end)
        f = self.frame[(self.frame["interval"] == interval) & self.frame["symbol"].isin(wanted)]
        if t0 is not None:
            f = f[f["open_time"] >= t0]
        if t1 is not None:
            f = f[f["open_time"] <= t1]
        return f.reset_index(drop=True)
