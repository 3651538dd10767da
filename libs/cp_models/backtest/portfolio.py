"""Weight-based daily backtest (the baselines) and the result type shared with the signal
book (``backtest.book``).

Accounting: decisions are taken at the close of day ``t`` and filled at the
open of ``t + 1``; positions are marked at every close; cash earns nothing; every fill pays
the fee and the slippage of the ``CostModel``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from cp_models.backtest.costs import CostModel
from cp_models.data import MarketData


@dataclass(frozen=True)
class BacktestResult:
    returns: pd.Series  # daily portfolio returns, close to close
    exposure: pd.Series  # gross exposure (fraction of equity) at each close
    trades: int
    trade_log: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def equity(self) -> pd.Series:
        return (1.0 + self.returns.fillna(0.0)).cumprod()


def run_target_weights(
    weights: pd.DataFrame,
    data: MarketData,
    start: pd.Timestamp,
    end: pd.Timestamp,
    costs: CostModel,
) -> BacktestResult:
    """Trade to the target weights decided at a close (rows: decision days, columns: assets) at
    the next open; a day without a decision row (all NaN) keeps the drifted holdings."""
    idx = data.index
    days = idx[(idx >= start) & (idx <= end)]
    cols = list(weights.columns)
    o = data.open[cols].reindex(idx).to_numpy()
    c = data.close[cols].reindex(idx).to_numpy()
    w_target = weights.reindex(idx).to_numpy(dtype="float64")
    pos = {t: i for i, t in enumerate(idx)}
    held = np.zeros(len(cols))  # weights at the previous close
    rets, expo = [], []
    trades = 0
    for t in days:
        i = pos[t]
        prev_c = c[i - 1] if i > 0 else o[i]
        gap = np.where(np.isfinite(o[i]) & np.isfinite(prev_c) & (prev_c > 0), o[i] / prev_c, 1.0)
        alive = np.isfinite(o[i]) & np.isfinite(c[i])
        w_open = held * gap
        growth_gap = 1.0 + float(np.sum(held * (gap - 1.0)))
        w_open = w_open / growth_gap
        decision = w_target[i - 1] if i > 0 else np.full(len(cols), np.nan)
        target = np.nan_to_num(decision) if np.isfinite(decision).any() else w_open
        target = np.where(alive, target, 0.0)
        # an asset without a price today is sold at its last mark (no quote to trade against)
        dead = ~alive & (w_open > 0)
        target = np.where(dead, 0.0, target)
        turnover = float(np.sum(np.abs(target - w_open)))
        if turnover > 1e-9:
            trades += int(np.sum(np.abs(target - w_open) > 1e-6))
        cost = turnover * costs.per_side
        intraday = np.where(alive, c[i] / o[i], 1.0)
        day_growth = (
            growth_gap * (1.0 - cost) * (1.0 - float(np.sum(target)) + float(np.sum(target * intraday)))
        )
        rets.append(day_growth - 1.0)
        grown = target * intraday
        total = 1.0 - float(np.sum(target)) + float(np.sum(grown))
        held = grown / total
        expo.append(float(np.sum(held)))
    return BacktestResult(
        pd.Series(rets, index=days, dtype="float64"), pd.Series(expo, index=days, dtype="float64"), trades
    )
