"""Files, replay and synthetic sources."""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd

from cp_market.candles import to_candle_frame, validate_candle_frame
from cp_market.simulator import MarketSimulator, SimulatorConfig
from cp_market.sources import CandleSource, FileCandleSource, ReplayCandleSource, SyntheticCandleSource


async def _take(source: CandleSource, n: int) -> list:
    out = []
    async for candle in source.stream():
        out.append(candle)
        if len(out) == n:
            break
    return out


async def test_synthetic_source_stream_agrees_with_backfill() -> None:
    config = SimulatorConfig(seed=4, start="2024-01-01")
    source = SyntheticCandleSource(interval="1h", config=config, symbols=["BTC", "ETH"], steps=10)
    streamed = await _take(source, 20)
    assert {c.symbol for c in streamed} == {"BTC", "ETH"}
    assert source.last_regime in {"bull", "bear", "sideways", "volatile"}
    history = await source.backfill(["BTC", "ETH"], "1h", "2024-01-01", "2024-01-01 09:00")
    validate_candle_frame(history)
    pd.testing.assert_frame_equal(history, to_candle_frame(streamed))


async def test_replay_orders_by_close_time_and_paces() -> None:
    daily = MarketSimulator(seed=2).simulate("1d", periods=3).candles
    hourly = MarketSimulator(seed=2).simulate("1h", periods=30).candles
    frame = pd.concat([daily[daily["symbol"] == "BTC"], hourly[hourly["symbol"] == "BTC"]], ignore_index=True)
    source = ReplayCandleSource(frame, speed=3600 * 50)  # one simulated hour = 20 ms
    started = time.monotonic()
    out = await _take(source, len(frame))
    elapsed = time.monotonic() - started
    closes = [pd.Timestamp(c.close_time) for c in out]
    assert closes == sorted(closes)
    # the first daily candle closes together with the 24th hourly one and comes right after it
    first_daily = next(i for i, c in enumerate(out) if c.interval == "1d")
    assert first_daily == 24 and out[23].close_time == out[24].close_time
    assert 0.4 < elapsed < 5  # ~29 hourly gaps of 20 ms were slept
    back = await source.backfill(["BTC"], "1h", "2020-01-01 05:00", "2020-01-01 07:00")
    assert len(back) == 3


async def test_file_source(data_dir: Path) -> None:
    source = FileCandleSource(data_dir, interval="4h", symbols=["ETH"], start="2023-12-01", end="2023-12-02")
    candles = await _take(source, 100)
    assert len(candles) == 7 and candles[-1].open_time == pd.Timestamp("2023-12-02", tz="UTC")
    frame = await source.backfill(["BTC"], "1d", "2023-01-01", "2023-01-31")
    assert len(frame) == 31 and set(frame["source"]) == {"binance"}
    assert source.last_report.rows_read > 0
