"""Shared helpers for the feature modules."""

from __future__ import annotations

import pandas as pd

from cp_models.data import BENCHMARK, MarketData

FeatureFrames = dict[str, pd.DataFrame]


def benchmark_symbol(data: MarketData) -> str:
    """BTC when present, otherwise the asset with the largest total quote volume."""
    if BENCHMARK in data.close.columns:
        return BENCHMARK
    return str(data.quote_volume.sum().idxmax())


def tradable_close(data: MarketData) -> pd.DataFrame:
    return data.close[data.tradable]
