"""Baseline strategies as target-weight frames for ``backtest.portfolio.run_target_weights``."""

from __future__ import annotations

import pandas as pd

from cp_models.data import MarketData
from cp_models.features.common import benchmark_symbol


def btc_buy_and_hold(data: MarketData, start: pd.Timestamp) -> pd.DataFrame:
    """All in BTC from the first open of the window, never traded again."""
    bench = benchmark_symbol(data)
    decision_day = start - pd.Timedelta(days=1)
    return pd.DataFrame({bench: [1.0]}, index=pd.DatetimeIndex([decision_day]))


def equal_weight_buy_and_hold(data: MarketData, start: pd.Timestamp) -> pd.DataFrame:
    """Equal weights in every tradable asset that has a price on the first day; then held
    (weights drift; an asset whose data end is sold at its last mark and becomes cash)."""
    decision_day = start - pd.Timedelta(days=1)
    live = [
        s for s in data.tradable if pd.notna(data.close.at[decision_day, s]) if decision_day in data.index
    ]
    w = 1.0 / len(live) if live else 0.0
    return pd.DataFrame({s: [w] for s in live}, index=pd.DatetimeIndex([decision_day]))


def ma_crossover(
    data: MarketData, start: pd.Timestamp, end: pd.Timestamp, fast: int = 50, slow: int = 200
) -> pd.DataFrame:
    """Long BTC while its 50-day average is above its 200-day average, else cash."""
    bench = benchmark_symbol(data)
    c = data.close[bench]
    on = (c.rolling(fast, min_periods=fast).mean() > c.rolling(slow, min_periods=slow).mean()).astype(
        "float64"
    )
    days = on.loc[start - pd.Timedelta(days=1) : end]
    return days.to_frame(bench)
