"""Candles from a data directory (the importers), as a ``CandleSource``.

``backfill`` reads through ``load_candles`` (merged sources, never past ``end``);
``stream`` yields every stored closed candle in close-time order without pacing (use
``ReplayCandleSource`` for paced replay).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from pathlib import Path

import pandas as pd

from cp_market.candles import Candle
from cp_market.dataset import load_candles
from cp_market.report import ImportReport
from cp_market.sources.base import CandleSource
from cp_market.sources.replay import ReplayCandleSource


class FileCandleSource(CandleSource):
    name = "files"

    def __init__(
        self,
        data_dir: Path | str,
        *,
        interval: str = "1d",
        symbols: Iterable[str] | None = None,
        start: object = None,
        end: object = None,
    ) -> None:
        self.data_dir = Path(data_dir)
        self.interval = interval
        self.symbols = list(symbols) if symbols is not None else None
        self.start = start
        self.end = end
        self.last_report = ImportReport()

    async def backfill(
        self, symbols: Iterable[str], interval: str, start: object, end: object
    ) -> pd.DataFrame:
        frame, report = await asyncio.to_thread(
            load_candles, self.data_dir, interval=interval, symbols=list(symbols), start=start, end=end
        )
        self.last_report = report
        return frame

    async def stream(self) -> AsyncIterator[Candle]:
        frame, report = await asyncio.to_thread(
            load_candles,
            self.data_dir,
            interval=self.interval,
            symbols=self.symbols,
            start=self.start,
            end=self.end,
        )
        self.last_report = report
        async for candle in ReplayCandleSource(frame).stream():
            yield candle
