"""Sector indices and sector features (wide frames: dates x sectors), all point in time.

A sector index compounds the weighted simple daily returns of its constituents. The weight
of an asset on day ``t`` is its mean quote volume over the 30 days up to ``t - 1`` (known
before day ``t`` trades). Per-coin market caps are not available for the whole history in
the shared data, so volume weighting is the default; pass ``weighting="equal"`` for equal
weights. The pseudo-sector ``market`` spans every tradable asset and is the benchmark for
relative strength.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cp_models.data import MarketData
from cp_models.features import indicators as ind
from cp_models.features.common import FeatureFrames

MARKET_SECTOR = "market"

SECTOR_FEATURES: dict[str, str] = {
    "sec_mom_7d": "log change of the sector index over 7 days",
    "sec_mom_30d": "log change of the sector index over 30 days",
    "sec_mom_90d": "log change of the sector index over 90 days",
    "sec_vol_30d": "annualized volatility of the sector index, 30 days",
    "sec_rs_30d": "sec_mom_30d minus the all-asset index's 30-day log change (relative strength)",
    "sec_rs_90d": "sec_mom_90d minus the all-asset index's 90-day log change",
    "sec_drawdown_90d": "sector index / its 90-day high - 1",
    "sec_breadth_50": "share of the sector's assets closing above their 50-day average",
    "sec_volume_trend_7_30": "ln(7-day / 30-day mean of the sector's total quote volume)",
    "sec_xs_rank_mom_30d": "percentile of sec_mom_30d across sectors that day",
    "sec_n_assets": "number of the sector's assets trading that day",
}


def sector_members(data: MarketData) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    for sym in data.tradable:
        groups.setdefault(data.sector_of(sym), []).append(sym)
    return dict(sorted(groups.items()))


def _weighted_returns(data: MarketData, cols: list[str], weighting: str) -> tuple[pd.Series, pd.Series]:
    close = data.close[cols]
    rets = close / close.shift(1) - 1.0
    if weighting == "equal":
        w = rets.notna().astype("float64")
    else:
        w = data.quote_volume[cols].rolling(30, min_periods=1).mean().shift(1)
    w = w.where(rets.notna()).fillna(0.0)
    total = w.sum(axis=1)
    r = (rets.fillna(0.0) * w).sum(axis=1) / total.where(total > 0)
    return r, rets.notna().sum(axis=1).astype("float64")


def sector_indices(data: MarketData, weighting: str = "volume") -> tuple[pd.DataFrame, pd.DataFrame]:
    """(index levels, number of trading constituents) per sector plus ``market``."""
    groups = sector_members(data)
    groups[MARKET_SECTOR] = list(data.tradable)
    levels: dict[str, pd.Series] = {}
    counts: dict[str, pd.Series] = {}
    for sector, cols in groups.items():
        r, n = _weighted_returns(data, cols, weighting)
        logr = np.log1p(r.clip(lower=-0.999999))
        started = n.gt(0).cummax()
        level = np.exp(logr.fillna(0.0).cumsum()).where(started & n.gt(0))
        levels[sector] = level
        counts[sector] = n
    return pd.DataFrame(levels), pd.DataFrame(counts)


def compute_sector_features(data: MarketData, weighting: str = "volume") -> FeatureFrames:
    level, count = sector_indices(data, weighting)
    market = level[MARKET_SECTOR]
    secs = [c for c in level.columns if c != MARKET_SECTOR]
    lv = level[secs]
    log_lv = np.log(lv)
    f: FeatureFrames = {}
    for h in (7, 30, 90):
        f[f"sec_mom_{h}d"] = log_lv - log_lv.shift(h)
    f["sec_vol_30d"] = ind.realized_vol(lv, 30)
    lm = np.log(market)
    f["sec_rs_30d"] = f["sec_mom_30d"].sub(lm - lm.shift(30), axis=0)
    f["sec_rs_90d"] = f["sec_mom_90d"].sub(lm - lm.shift(90), axis=0)
    f["sec_drawdown_90d"] = ind.drawdown(lv, 90)
    members = sector_members(data)
    breadth = {}
    volume_trend = {}
    for sec in secs:
        cols = members[sec]
        breadth[sec] = ind.share_above_sma(data.close[cols], 50)
        qv = data.quote_volume[cols].sum(axis=1, min_count=1)
        volume_trend[sec] = np.log(
            qv.rolling(7, min_periods=7).mean() / qv.rolling(30, min_periods=30).mean()
        )
    f["sec_breadth_50"] = pd.DataFrame(breadth)
    f["sec_volume_trend_7_30"] = pd.DataFrame(volume_trend)
    f["sec_xs_rank_mom_30d"] = ind.cross_sectional_rank(f["sec_mom_30d"])
    f["sec_n_assets"] = count[secs]
    out = {}
    for k, v in f.items():
        v = v.astype("float64")
        v.index.name = "date"
        v.columns.name = "sector"
        out[k] = v
    return out
