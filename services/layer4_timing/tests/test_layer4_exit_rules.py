"""The tracker's exits are the backtest's: the same trades followed bar by bar as the bars
arrive give what ``cp_models.signals.resolve_exit`` gives on the whole history."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cp_models.backtest.costs import CostModel
from cp_models.data import MarketData
from cp_models.signals import TradeSignal, resolve_exit
from layer4_timing_service.exit_rules import Bar, follow

from .timing_testing import FEE, SLIPPAGE, daily_bars

COSTS = CostModel(FEE, SLIPPAGE)
DAY0 = pd.Timestamp("2024-01-02", tz="UTC")
MAPPED = {
    "target_hit": "target_hit",
    "stopped_out": "stopped_out",
    "expired": "expired",
    "end_of_data": "expired",
}


def _signal(
    target: float, stop: float, horizon: int = 5, entry: pd.Timestamp = DAY0, symbol: str = "X"
) -> TradeSignal:
    return TradeSignal(
        symbol=symbol,
        side="long",
        decided_at=entry - pd.Timedelta(days=1),
        entry_date=entry,
        reference_price=100.0,
        target_price=target,
        stop_price=stop,
        size=0.1,
        horizon_days=horizon,
        expires_at=entry + pd.Timedelta(days=horizon),
        confidence=0.6,
        agreement=1.0,
        display=False,
    )


def _bar(offset: int, o: float, h: float, lo: float, c: float) -> Bar:
    return Bar((DAY0 + pd.Timedelta(days=offset)).to_pydatetime(), o, h, lo, c)


def test_a_close_below_the_stop_exits_at_the_next_open_through_a_gap() -> None:
    bars = [_bar(0, 100, 103, 94, 96), _bar(1, 88, 92, 87, 91)]
    progress = follow(_signal(target=110, stop=97), bars, COSTS)
    assert progress.exit is not None
    assert (progress.exit.status, progress.exit.exit_price, progress.exit.bars_held) == ("stopped_out", 88, 2)


def test_the_target_fills_at_the_open_when_the_bar_opens_above_it() -> None:
    bars = [_bar(0, 100, 104, 99, 103), _bar(1, 112, 113, 111, 112)]
    progress = follow(_signal(target=110, stop=90), bars, COSTS)
    assert progress.exit is not None and (progress.exit.status, progress.exit.exit_price) == (
        "target_hit",
        112,
    )


def test_no_entry_bar_means_no_trade_an_open_trade_waits_and_a_gap_ends_it() -> None:
    assert follow(_signal(target=150, stop=50), [_bar(1, 100, 101, 99, 100)], COSTS).unfillable
    waiting = follow(_signal(target=150, stop=50), [_bar(0, 100, 101, 99, 100)], COSTS)
    assert waiting.entry_price == 100 and waiting.exit is None and not waiting.unfillable
    gap = follow(
        _signal(target=150, stop=50), [_bar(0, 100, 101, 99, 100), _bar(2, 100, 101, 99, 101)], COSTS
    )
    assert gap.exit is not None and (gap.exit.status, gap.exit.exit_price) == ("expired", 100)
    assert gap.exit.reason == "data gap: closed at the last close"


def test_bar_by_bar_exits_equal_the_backtest_rule_on_real_history(data_dir: Path) -> None:
    symbols = ("BTC", "ETH", "SOL")
    frames = {s: daily_bars(data_dir, s, "2022-01-01", "2022-12-31") for s in symbols}
    data = MarketData.from_frames(pd.concat(frames.values(), ignore_index=True))
    rng = np.random.default_rng(7)
    seen_statuses = set()
    for _ in range(40):
        symbol = str(rng.choice(symbols))
        entry = data.index[int(rng.integers(1, len(data.index) - 40))]
        close = float(data.close.at[entry - pd.Timedelta(days=1), symbol])
        signal = _signal(
            target=close * float(rng.uniform(1.01, 1.2)),
            stop=close * float(rng.uniform(0.8, 0.99)),
            horizon=int(rng.integers(2, 15)),
            entry=entry,
            symbol=symbol,
        )
        candles = pd.DataFrame({f: getattr(data, f)[symbol] for f in ("open", "high", "low", "close")})
        expected = resolve_exit(signal, candles, COSTS)
        seen: list[Bar] = []
        closed = None
        for row in frames[symbol].itertuples():
            seen.append(Bar(row.open_time.to_pydatetime(), row.open, row.high, row.low, row.close))
            progress = follow(signal, seen, COSTS)
            if progress.exit is not None:
                closed = progress.exit
                break
        assert closed is not None
        seen_statuses.add(closed.status)
        assert closed.status == MAPPED[expected.status]
        assert closed.exit_price == expected.exit_price
        assert closed.net_return == pytest.approx(expected.net_return, abs=1e-15)
        assert closed.closed_at == (pd.Timestamp(expected.exit_date) + pd.Timedelta(days=1)).to_pydatetime()
    assert seen_statuses == {"target_hit", "stopped_out", "expired"}
