"""The simulator as a ``CandleSource`` (the fleet's default when no data/live feed is set).

``stream()`` yields each step's closed candles (all assets), optionally paced by
``step_seconds`` of wall time per step. ``backfill()`` re-runs the same seeded path from
the configured start, so history and stream agree candle for candle.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable

import pandas as pd

from cp_market.candles import Candle, empty_candle_frame, interval_delta, to_utc_timestamp
from cp_market.simulator import MarketSimulator, SimulatorConfig
from cp_market.sources.base import CandleSource


class SyntheticCandleSource(CandleSource):
    name = "synthetic"

    def __init__(
        self,
        *,
        interval: str = "1h",
        config: SimulatorConfig | None = None,
        symbols: Iterable[str] | None = None,
        step_seconds: float = 0.0,
        steps: int | None = None,
    ) -> None:
        self.simulator = MarketSimulator(config)
        self.interval = interval
        self.symbols = {s.upper() for s in symbols} if symbols is not None else None
        self.step_seconds = step_seconds
        self.steps = steps
        self.last_regime: str | None = None
        self.last_snapshot: dict[str, float | str] | None = None

    async def stream(self) -> AsyncIterator[Candle]:
        for step in self.simulator.stream(self.interval, steps=self.steps):
            self.last_regime = step.regime
            self.last_snapshot = step.snapshot
            for candle in step.candles:
                if self.symbols is None or candle.symbol in self.symbols:
                    yield candle
            await asyncio.sleep(self.step_seconds)

    async def backfill(
        self, symbols: Iterable[str], interval: str, start: object, end: object
    ) -> pd.DataFrame:
        t0, t1 = to_utc_timestamp(start), to_utc_timestamp(end)
        origin = to_utc_timestamp(self.simulator.config.start)
        assert origin is not None and t1 is not None
        if t1 < origin:
            return empty_candle_frame()
        periods = int((t1 - origin) // interval_delta(interval)) + 1
        market = await asyncio.to_thread(self.simulator.simulate, interval, periods=periods)
        f = market.candles
        wanted = {s.upper() for s in symbols}
        f = f[f["symbol"].isin(wanted) & (f["open_time"] <= t1)]
        if t0 is not None:
            f = f[f["open_time"] >= t0]
        return f.reset_index(drop=True)
