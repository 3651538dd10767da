"""Design matrices and labels of all four layers, built once from ``MarketData``.

Features come from ``features`` (point in time); labels from ``labels`` (future windows).
Rows are only kept where an observer at ``t`` could have computed them: an asset needs
``MIN_HISTORY_DAYS`` of prices before it is scored or traded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from cp_models.book import DayInputs
from cp_models.config import CascadeConfig
from cp_models.data import MarketData
from cp_models.features import FeatureSet, compute_features
from cp_models.features.asset import stack_panel
from cp_models.features.book import compute_book_features, compute_market_book_features
from cp_models.features.common import benchmark_symbol
from cp_models.features.indicators import atr as atr_fn
from cp_models.features.sector import MARKET_SECTOR, sector_indices
from cp_models.labels import risk_adjusted_forward, sector_forward_relative, triple_barrier
from cp_models.layers.l2_sector import L2_FEATURES, L2_MARKET_CONTEXT, rotation_context, rotation_labels
from cp_models.layers.l3_asset import L3_MARKET_CONTEXT, L3_SECTOR_CONTEXT
from cp_models.layers.l4_timing import L4_STATIC, SequenceStore
from cp_models.regimes import REGIMES, next_period_regimes

MIN_HISTORY_DAYS = 60
BOOK_MARKET = {"market_budget", "btc_vol_forecast", "btc_trend_score", "index_trend_score"}


@dataclass
class CascadeDatasets:
    data: MarketData
    features: FeatureSet
    market: pd.DataFrame  # L1 inputs, one row per day
    l1_y: pd.Series
    sectors: pd.DataFrame  # (date, sector) rows with L2_FEATURES
    l2_y: pd.Series  # forward relative-return rank
    l2_forward: pd.Series  # forward relative log return
    rotation: pd.DataFrame  # date rows of rotation features
    rotation_y: pd.Series
    assets: pd.DataFrame  # (date, symbol) rows: asset + sector + market context
    l3_y: pd.Series  # forward risk-adjusted return rank
    l3_forward: pd.Series  # forward risk-adjusted return
    l4_y: pd.Series  # triple-barrier class
    store: SequenceStore
    barrier_regime: pd.Series  # trailing descriptive regime name per day (barrier scaling)
    meta_forward: pd.Series  # (date, symbol): simple return from open t+1 to open t+1+meta horizon


def current_regime_names(market: pd.DataFrame) -> pd.Series:
    cols = [f"regime_now_{r}" for r in REGIMES]
    m = market[cols].to_numpy()
    known = np.isfinite(m).all(axis=1) & (np.nan_to_num(m).max(axis=1) == 1.0)
    names = np.array(REGIMES, dtype=object)[np.argmax(np.nan_to_num(m), axis=1)]
    return pd.Series(np.where(known, names, None), index=market.index, dtype="object")


def build_datasets(data: MarketData, config: CascadeConfig | None = None) -> CascadeDatasets:
    cfg = config or CascadeConfig()
    fs = compute_features(data)
    market = fs.market.join(compute_market_book_features(data))
    bench = benchmark_symbol(data)
    l1_y = next_period_regimes(data.close[bench], cfg.l1.regime_rule)

    # L2: sector rows
    sec = {k: v for k, v in fs.sector.items()}
    sector_panel = stack_panel(sec)
    sector_panel.index.names = ["date", "sector"]
    for c in L2_MARKET_CONTEXT:
        sector_panel[c] = market[c].reindex(sector_panel.index.get_level_values(0)).to_numpy()
    sector_panel = sector_panel[sector_panel["sec_n_assets"] > 0].dropna(subset=["sec_mom_30d"])
    levels, _counts = sector_indices(data)
    fwd_rel = sector_forward_relative(
        levels.drop(columns=[MARKET_SECTOR]), levels[MARKET_SECTOR], cfg.l2.horizon_days
    )
    l2_forward = fwd_rel.stack(future_stack=True).reindex(sector_panel.index)
    l2_y = l2_forward.groupby(level=0).rank(pct=True)
    rot = rotation_context(fs.sector["sec_mom_30d"], market, cfg.l2.n_leading)
    rot_y = rotation_labels(fs.sector["sec_mom_30d"], fwd_rel, cfg.l2.n_leading)

    # L3 / L4: asset rows
    panel = stack_panel(fs.asset)
    panel = panel[panel["history_days"] >= MIN_HISTORY_DAYS]
    dates = panel.index.get_level_values(0)
    syms = panel.index.get_level_values(1)
    sector_of = pd.Series([data.sector_of(s) for s in syms], index=panel.index)
    for c in L3_SECTOR_CONTEXT:
        frame = fs.sector[c]
        lookup = frame.stack(future_stack=True)
        keys = pd.MultiIndex.from_arrays([dates, sector_of.to_numpy()])
        panel[c] = lookup.reindex(keys).to_numpy()
    for c in sorted(set(L3_MARKET_CONTEXT) | {x for x in L4_STATIC if x in market.columns} | BOOK_MARKET):
        panel[c] = market[c].reindex(dates).to_numpy()
    cols = data.tradable
    for name, frame in compute_book_features(data).items():
        panel[name] = frame.stack(future_stack=True).reindex(panel.index).to_numpy()
    h = cfg.meta.horizon_days
    op = data.open[cols]
    meta_forward = (op.shift(-(h + 1)) / op.shift(-1) - 1.0).stack(future_stack=True).reindex(panel.index)
    fwd = risk_adjusted_forward(data.open[cols], data.close[cols], cfg.l3.horizon_days)
    l3_forward = fwd.stack(future_stack=True).reindex(panel.index)
    l3_forward = l3_forward.where(np.isfinite(l3_forward))
    l3_y = l3_forward.groupby(level=0).rank(pct=True)

    regime_names = current_regime_names(market)
    scale = regime_names.map(lambda r: cfg.l4.barriers.scale_for(r if isinstance(r, str) else None)).astype(
        "float64"
    )
    atr = atr_fn(data.high[cols], data.low[cols], data.close[cols], 14)
    bl = triple_barrier(data.open[cols], data.high[cols], data.low[cols], atr, scale, cfg.l4.barriers)
    l4_y = bl.label.stack(future_stack=True).reindex(panel.index)
    panel["close"] = data.close[cols].stack(future_stack=True).reindex(panel.index).to_numpy()
    panel["sector"] = sector_of.to_numpy()
    return CascadeDatasets(
        data=data,
        features=fs,
        market=market,
        l1_y=l1_y,
        sectors=sector_panel[[*L2_FEATURES, "sec_n_assets"]],
        l2_y=l2_y,
        l2_forward=l2_forward,
        rotation=rot,
        rotation_y=rot_y,
        assets=panel,
        l3_y=l3_y,
        l3_forward=l3_forward,
        l4_y=l4_y,
        store=SequenceStore(fs.sequence),
        barrier_regime=regime_names,
        meta_forward=meta_forward.where(np.isfinite(meta_forward)),
    )


def rows_between(
    frame: pd.DataFrame | pd.Series, start: pd.Timestamp | None, end: pd.Timestamp | None
) -> Any:
    """Rows whose date (first index level) lies in [start, end]."""
    d = frame.index.get_level_values(0) if isinstance(frame.index, pd.MultiIndex) else frame.index
    mask = np.ones(len(d), dtype=bool)
    if start is not None:
        mask &= d >= start
    if end is not None:
        mask &= d <= end
    return frame[mask]


def day_inputs(ds: CascadeDatasets, as_of: pd.Timestamp, return_days: int = 120) -> DayInputs:
    """The book's inputs at the close of ``as_of`` (what a service computes for that day)."""
    try:
        assets = ds.assets.xs(as_of, level=0)
    except KeyError:
        assets = ds.assets.iloc[0:0].droplevel(0)
    close = ds.data.close[ds.data.tradable].loc[:as_of].tail(return_days + 1)
    returns = close.pct_change(fill_method=None).iloc[1:]
    market = ds.market.loc[as_of] if as_of in ds.market.index else pd.Series(dtype="float64")
    return DayInputs(as_of, assets, market, returns)


def latest_inputs(data: MarketData, config: CascadeConfig | None = None) -> DayInputs:
    """Inputs for the last day of ``data`` (recent history, >= 400 days keeps every window warm)."""
    ds = build_datasets(data, config)
    return day_inputs(ds, data.index[-1])
