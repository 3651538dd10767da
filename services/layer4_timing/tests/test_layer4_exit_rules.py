"""The tracker's exits are the backtest's: the same trades walked bar by bar as they arrive give
what ``cp_models.backtest.trades.simulate_signal_trades`` gives on the whole history."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cp_models.backtest.costs import CostModel
from cp_models.backtest.trades import simulate_signal_trades
from cp_models.data import MarketData
from layer4_timing_service.exit_rules import Bar, TradePlan, follow

from .timing_testing import FEE, SLIPPAGE, daily_bars

COSTS = CostModel(FEE, SLIPPAGE)
REASONS = {"target_hit": "target", "stopped_out": "stop", "expired": "expiry"}


def _bar(day: date, o: float, h: float, lo: float, c: float) -> Bar:
    return Bar(datetime.combine(day, datetime.min.time(), tzinfo=UTC), o, h, lo, c)


def test_a_gap_through_the_stop_fills_at_the_open() -> None:
    d0 = date(2024, 1, 1)
    plan = TradePlan("long", d0, target_distance=10, stop_distance=5, horizon_bars=5)
    bars = [_bar(d0 + timedelta(days=1), 100, 103, 98, 99), _bar(d0 + timedelta(days=2), 90, 92, 89, 91)]
    progress = follow(plan, bars, COSTS)
    assert progress.exit is not None
    assert (progress.exit.status, progress.exit.exit_price, progress.exit.bars_held) == ("stopped_out", 90, 2)


def test_a_bar_touching_both_levels_counts_as_the_stop() -> None:
    d0 = date(2024, 1, 1)
    plan = TradePlan("short", d0, target_distance=5, stop_distance=5, horizon_bars=5)
    progress = follow(plan, [_bar(d0 + timedelta(days=1), 100, 106, 94, 100)], COSTS)
    assert progress.exit is not None and (progress.exit.status, progress.exit.exit_price) == (
        "stopped_out",
        105,
    )


def test_no_entry_bar_means_no_trade_and_an_open_trade_waits() -> None:
    d0 = date(2024, 1, 1)
    plan = TradePlan("long", d0, target_distance=50, stop_distance=50, horizon_bars=3)
    assert follow(plan, [_bar(d0 + timedelta(days=2), 100, 101, 99, 100)], COSTS).unfillable
    waiting = follow(plan, [_bar(d0 + timedelta(days=1), 100, 101, 99, 100)], COSTS)
    assert waiting.entry_price == 100 and waiting.exit is None and not waiting.unfillable


def test_bar_by_bar_exits_equal_the_backtest_on_real_history(data_dir: Path) -> None:
    frames = [daily_bars(data_dir, s, "2022-01-01", "2022-12-31") for s in ("BTC", "ETH", "SOL")]
    candles = pd.concat(frames, ignore_index=True)
    data = MarketData.from_frames(candles)
    rng = np.random.default_rng(7)
    days = data.index[:-40]
    rows = []
    for _ in range(60):
        symbol = str(rng.choice(data.symbols))
        day = days[int(rng.integers(len(days)))]
        close = float(data.close.at[day, symbol])
        rows.append(
            {
                "date": day,
                "symbol": symbol,
                "side": str(rng.choice(["long", "short"])),
                "probability": 0.8,
                "target_dist": close * float(rng.uniform(0.01, 0.15)),
                "stop_dist": close * float(rng.uniform(0.01, 0.15)),
                "horizon_days": int(rng.integers(2, 21)),
            }
        )
    signals = pd.DataFrame(rows)
    expected = simulate_signal_trades(signals, data, COSTS)
    assert set(expected["exit_reason"]) >= {"target", "stop", "expiry"}
    by_symbol = {
        s: [Bar(r.open_time, r.open, r.high, r.low, r.close) for r in f.itertuples()]
        for s, f in zip(("BTC", "ETH", "SOL"), frames, strict=True)
    }
    for sig, exp in zip(signals.itertuples(), expected.itertuples(), strict=True):
        plan = TradePlan(sig.side, sig.date.date(), sig.target_dist, sig.stop_dist, sig.horizon_days)
        seen: list[Bar] = []
        closed = None
        for bar in by_symbol[sig.symbol]:
            seen.append(bar)
            progress = follow(plan, seen, COSTS)
            if progress.exit is not None:
                closed = progress
                break
        assert closed is not None and closed.exit is not None
        assert REASONS[closed.exit.status] == exp.exit_reason
        assert closed.entry_price == exp.entry_price
        assert closed.exit.exit_price == exp.exit_price
        assert closed.exit.net_return == pytest.approx(exp.net_return, abs=1e-15)
        assert closed.exit.bars_held == exp.bars_held
