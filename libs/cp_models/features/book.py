"""Point-in-time inputs of the trading book: trend scores, volatility forecasts, stops,
liquidity and the point-in-time universe.

Every value at day ``t`` uses data up to the close of ``t`` only (checked by the lookahead
harness like every other feature group).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cp_models.data import MarketData
from cp_models.features.common import FeatureFrames, benchmark_symbol
from cp_models.features.indicators import ANNUALIZATION_DAYS, log_returns

TREND_LOOKBACKS = (10, 20, 50, 100, 200)
MARKET_INDEX_SIZE = 10

BOOK_FEATURES: dict[str, str] = {
    "trend_score": "mean over n in {10, 20, 50, 100, 200} of 1[close > n-day average], 0..1",
    "vol_forecast": "max(EWMA volatility with a 10-day half-life, 60-day realized), annualized",
    "stop_low_20": "lowest daily low of the last 20 days (today included): the structural stop level",
    "liquidity_30d": "median daily quote volume of the last 30 days (USD)",
    "mom_composite": "mean cross-sectional percentile of the 7-, 30- and 90-day log returns",
}

MARKET_BOOK_FEATURES: dict[str, str] = {
    "btc_trend_score": "trend_score of BTC",
    "index_trend_score": "trend_score of the equal-weighted top-10 coins by liquidity_30d (rebalanced daily)",
    "market_budget": "mean of btc_trend_score and index_trend_score: L1's risk budget, 0..1",
    "btc_vol_forecast": "vol_forecast of BTC",
}


def trend_score(close: pd.DataFrame) -> pd.DataFrame:
    """Share of the lookbacks whose moving average the close is above (NaN until 200 days)."""
    parts = []
    for n in TREND_LOOKBACKS:
        avg = close.rolling(n, min_periods=n).mean()
        parts.append((close > avg).astype("float64").where(avg.notna() & close.notna()))
    return sum(parts) / len(parts)


def vol_forecast(close: pd.DataFrame) -> pd.DataFrame:
    r = log_returns(close)
    ewma = np.sqrt((r**2).ewm(halflife=10, adjust=False, min_periods=20).mean())
    realized = r.rolling(60, min_periods=60).std()
    return np.maximum(ewma, realized) * np.sqrt(ANNUALIZATION_DAYS)


def market_index(data: MarketData, symbols: list[str]) -> pd.Series:
    """Level of the equal-weighted top-``MARKET_INDEX_SIZE`` coins by trailing liquidity
    (members chosen at the close of ``t - 1`` from coins trading then)."""
    liq = data.quote_volume[symbols].rolling(30, min_periods=30).median()
    members = liq.shift(1).rank(axis=1, ascending=False) <= MARKET_INDEX_SIZE
    daily = data.close[symbols].pct_change(fill_method=None)
    ret = daily.where(members).mean(axis=1).fillna(0.0)
    level = (1.0 + ret).cumprod()
    started = members.any(axis=1).cummax()
    return level.where(started)


def compute_book_features(data: MarketData) -> FeatureFrames:
    cols = data.tradable
    close = data.close[cols]
    mom = {n: log_returns(close, n) for n in (7, 30, 90)}
    composite = sum(m.rank(axis=1, pct=True) for m in mom.values()) / len(mom)
    return {
        "trend_score": trend_score(close),
        "vol_forecast": vol_forecast(close),
        "stop_low_20": data.low[cols].rolling(20, min_periods=20).min(),
        "liquidity_30d": data.quote_volume[cols].rolling(30, min_periods=30).median(),
        "mom_composite": composite,
    }


def compute_market_book_features(data: MarketData) -> pd.DataFrame:
    bench = benchmark_symbol(data)
    btc = data.close[[bench]]
    index = market_index(data, data.tradable).to_frame("index")
    out = pd.DataFrame(index=data.index)
    out["btc_trend_score"] = trend_score(btc)[bench]
    out["index_trend_score"] = trend_score(index)["index"]
    out["market_budget"] = out[["btc_trend_score", "index_trend_score"]].mean(axis=1, skipna=False)
    out["btc_vol_forecast"] = vol_forecast(btc)[bench]
    return out


def book_feature_group(data: MarketData) -> FeatureFrames:
    """Every book input as named frames (for the lookahead harness)."""
    frames = dict(compute_book_features(data))
    market = compute_market_book_features(data)
    frames.update({c: market[[c]] for c in market.columns})
    return frames
