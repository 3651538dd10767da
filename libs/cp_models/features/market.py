"""Market-wide features (one row per day), all point in time."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cp_models.data import MarketData
from cp_models.features import indicators as ind
from cp_models.features.common import benchmark_symbol, tradable_close
from cp_models.regimes import REGIMES, RegimeRule, describe_regimes, trend_to_noise

MARKET_FEATURES: dict[str, str] = {
    "mcap_ret_1d": "log change of total crypto market cap over 1 day (CoinGecko)",
    "mcap_ret_7d": "log change of total market cap over 7 days",
    "mcap_ret_30d": "log change of total market cap over 30 days",
    "mcap_vol_30d": "annualized volatility of daily total-market-cap log changes, 30 days",
    "btc_dominance": "BTC share of total market cap, %",
    "btc_dom_chg_7d": "change of BTC dominance over 7 days, percentage points",
    "btc_dom_chg_30d": "change of BTC dominance over 30 days, percentage points",
    "stable_dominance": "stablecoin (USDT) share of total market cap, %",
    "stable_dom_chg_30d": "change of stablecoin dominance over 30 days, percentage points",
    "fear_greed": "Crypto Fear & Greed index (alternative.me), 0..100",
    "fear_greed_ma_7": "7-day mean of Fear & Greed",
    "fear_greed_chg_7d": "Fear & Greed minus its value 7 days earlier",
    "breadth_50": "share of tradable assets closing above their 50-day average",
    "breadth_200": "share of tradable assets closing above their 200-day average",
    "btc_mom_30d": "BTC log return over 30 days",
    "btc_mom_90d": "BTC log return over 90 days",
    "btc_ma_dist_200": "BTC close / 200-day average - 1",
    "btc_vol_30d": "BTC annualized 30-day volatility",
    "btc_vol_pct": "percentile of btc_vol_30d among all earlier days (expanding, >= 180 days)",
    "btc_drawdown_365d": "BTC close / highest close of the last 365 days - 1",
    "btc_trend_z_30": "BTC 30-day trend-to-noise ratio: log return / (daily vol * sqrt(30))",
    "xs_dispersion_30d": "cross-sectional std of 30-day log returns across tradable assets",
    "ew_mom_30d": "mean 30-day log return of tradable assets (equal weight)",
    **{f"regime_now_{r}": f"1 if the trailing 30-day descriptive regime is {r}" for r in REGIMES},
}


def compute_market_features(data: MarketData, rule: RegimeRule | None = None) -> pd.DataFrame:
    idx = data.index
    m = data.market.reindex(idx)
    out = pd.DataFrame(index=idx)
    mcap = m["total_market_cap"].where(m["total_market_cap"] > 0)
    lm = np.log(mcap)
    for h in (1, 7, 30):
        out[f"mcap_ret_{h}d"] = lm - lm.shift(h)
    out["mcap_vol_30d"] = (lm - lm.shift(1)).rolling(30, min_periods=30).std() * np.sqrt(
        ind.ANNUALIZATION_DAYS
    )
    dom = m["btc_dominance"]
    out["btc_dominance"] = dom
    out["btc_dom_chg_7d"] = dom - dom.shift(7)
    out["btc_dom_chg_30d"] = dom - dom.shift(30)
    stable = m["stablecoin_dominance"]
    out["stable_dominance"] = stable
    out["stable_dom_chg_30d"] = stable - stable.shift(30)
    fg = m["fear_greed"]
    out["fear_greed"] = fg
    out["fear_greed_ma_7"] = fg.rolling(7, min_periods=7).mean()
    out["fear_greed_chg_7d"] = fg - fg.shift(7)

    close = tradable_close(data)
    for w in (50, 200):
        out[f"breadth_{w}"] = ind.share_above_sma(close, w).astype("float64")

    btc = data.close[benchmark_symbol(data)]
    lb = np.log(btc)
    out["btc_mom_30d"] = lb - lb.shift(30)
    out["btc_mom_90d"] = lb - lb.shift(90)
    out["btc_ma_dist_200"] = btc / btc.rolling(200, min_periods=200).mean() - 1.0
    vol = (lb - lb.shift(1)).rolling(30, min_periods=30).std() * np.sqrt(ind.ANNUALIZATION_DAYS)
    out["btc_vol_30d"] = vol
    out["btc_vol_pct"] = ind.expanding_percentile(vol, 180)
    out["btc_drawdown_365d"] = btc / btc.rolling(365, min_periods=1).max() - 1.0
    out["btc_trend_z_30"], _ = trend_to_noise(btc, 30)
    mom30 = ind.log_returns(close, 30)
    out["xs_dispersion_30d"] = mom30.std(axis=1)
    out["ew_mom_30d"] = mom30.mean(axis=1)
    now = describe_regimes(btc, rule)
    for i, r in enumerate(REGIMES):
        out[f"regime_now_{r}"] = (now == i).astype("float64").where(now.notna())
    out.index.name = "date"
    return out.astype("float64")
