"""Per-asset features (wide frames: dates x tradable assets), all point in time."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cp_models.data import MarketData
from cp_models.features import indicators as ind
from cp_models.features.common import FeatureFrames, benchmark_symbol

MOMENTUM_HORIZONS = (7, 14, 30, 90, 180)

ASSET_FEATURES: dict[str, str] = {
    **{f"mom_{h}d": f"log return of the close over the last {h} days" for h in MOMENTUM_HORIZONS},
    "vol_14d": "annualized std of daily log returns, last 14 days",
    "vol_30d": "annualized std of daily log returns, last 30 days",
    "vol_90d": "annualized std of daily log returns, last 90 days",
    "vol_ratio_14_90": "vol_14d / vol_90d (volatility expansion > 1)",
    "atr_14_pct": "Average True Range (Wilder, 14) divided by the close",
    "volume_trend_7_30": "ln(mean quote volume 7d / mean quote volume 30d)",
    "volume_z_30": "z-score of today's log quote volume against the last 30 days",
    "drawdown_90d": "close / highest close of the last 90 days - 1",
    "drawdown_365d": "close / highest close of the last 365 days - 1",
    "ma_dist_50": "close / 50-day simple moving average - 1",
    "ma_dist_200": "close / 200-day simple moving average - 1",
    "corr_btc_60d": "correlation of daily log returns with BTC, last 60 days",
    "beta_btc_60d": "beta of daily log returns to BTC, last 60 days",
    "rsi_14": "Wilder RSI(14), 0..100",
    "macd_pct": "MACD line (EMA12 - EMA26) / close",
    "macd_hist_pct": "(MACD line - signal EMA9) / close",
    "bb_pctb_20": "Bollinger %B(20, 2): (close - lower) / (upper - lower)",
    "bb_width_20": "Bollinger width(20, 2): (upper - lower) / middle",
    "rel_mom_30d_btc": "mom_30d minus BTC's mom_30d (relative strength)",
    "xs_rank_mom_30d": "cross-sectional percentile of mom_30d among assets trading that day",
    "xs_rank_mom_90d": "cross-sectional percentile of mom_90d among assets trading that day",
    "xs_rank_vol_30d": "cross-sectional percentile of vol_30d among assets trading that day",
    "history_days": "days of price history so far (capped at 730): young listings behave differently",
}


def compute_asset_features(data: MarketData) -> FeatureFrames:
    cols = data.tradable
    close = data.close[cols]
    high = data.high[cols]
    low = data.low[cols]
    qv = data.quote_volume[cols]
    f: FeatureFrames = {}
    for h in MOMENTUM_HORIZONS:
        f[f"mom_{h}d"] = ind.log_returns(close, h)
    for w in (14, 30, 90):
        f[f"vol_{w}d"] = ind.realized_vol(close, w)
    f["vol_ratio_14_90"] = f["vol_14d"] / f["vol_90d"]
    f["atr_14_pct"] = ind.atr(high, low, close, 14) / close
    f["volume_trend_7_30"] = np.log(ind.sma(qv, 7) / ind.sma(qv, 30))
    f["volume_z_30"] = ind.log_volume_z(qv, 30)
    f["drawdown_90d"] = ind.drawdown(close, 90)
    f["drawdown_365d"] = ind.drawdown(close, 365)
    f["ma_dist_50"] = close / ind.sma(close, 50) - 1.0
    f["ma_dist_200"] = close / ind.sma(close, 200) - 1.0
    bench = benchmark_symbol(data)
    rets = ind.log_returns(close)
    bench_ret = ind.log_returns(data.close[[bench]])[bench]
    f["corr_btc_60d"], f["beta_btc_60d"] = ind.rolling_beta_corr(rets, bench_ret, 60)
    f["rsi_14"] = ind.rsi(close, 14)
    line, sig, _hist = ind.macd(close)
    f["macd_pct"] = line / close
    f["macd_hist_pct"] = (line - sig) / close
    lower, mid, upper = ind.bollinger(close, 20, 2.0)
    width = upper - lower
    f["bb_pctb_20"] = (close - lower) / width.where(width > 0)
    f["bb_width_20"] = width / mid
    bench_mom = ind.log_returns(data.close[[bench]], 30)[bench]
    f["rel_mom_30d_btc"] = f["mom_30d"].sub(bench_mom, axis=0)
    f["xs_rank_mom_30d"] = ind.cross_sectional_rank(f["mom_30d"])
    f["xs_rank_mom_90d"] = ind.cross_sectional_rank(f["mom_90d"])
    f["xs_rank_vol_30d"] = ind.cross_sectional_rank(f["vol_30d"])
    f["history_days"] = close.notna().cumsum().clip(upper=730).where(close.notna())
    return {k: v.astype("float64") for k, v in f.items()}


def stack_panel(frames: FeatureFrames, names: list[str] | None = None) -> pd.DataFrame:
    """Long table indexed by (date, symbol) with one column per feature."""
    names = names or list(frames)
    cols = {n: frames[n].stack(future_stack=True) for n in names}
    out = pd.DataFrame(cols)
    out.index.names = ["date", "symbol"]
    return out
