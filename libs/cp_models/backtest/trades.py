"""Simulate single signal trades bar by bar with the signal's own target, stop and expiry.

Entry at the open of the day after the signal. Each following bar (the entry bar included)
is checked against the stop and the target; a bar touching both counts as the stop. A gap
through a barrier fills at that bar's open. Without a barrier touch the trade exits at the
open of the bar after the time limit (or the last close available). Fees and slippage
apply to both fills. Independent of capital: this scores the signals themselves (L4).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cp_models.backtest.costs import CostModel
from cp_models.data import MarketData


def net_trade_return(side: str, entry: float, exit_: float, costs: CostModel) -> tuple[float, float]:
    """(gross, net) return on the capital committed to the trade."""
    if side == "long":
        gross = exit_ / entry - 1.0
        buy = costs.buy_fill(entry) * (1.0 + costs.fee)
        sell = costs.sell_fill(exit_) * (1.0 - costs.fee)
        return gross, sell / buy - 1.0
    gross = 1.0 - exit_ / entry
    sell = costs.sell_fill(entry) * (1.0 - costs.fee)
    buy = costs.buy_fill(exit_) * (1.0 + costs.fee)
    return gross, (sell - buy) / sell


def walk_trade(
    side: str,
    start: int,
    o: np.ndarray,
    h: np.ndarray,
    lo: np.ndarray,
    c: np.ndarray,
    target_dist: float,
    stop_dist: float,
    horizon: int,
) -> tuple[int, float, float, str] | None:
    """(exit index, entry price, exit price, reason) for a trade entered at the open of ``start``."""
    n = len(o)
    if start >= n or not np.isfinite(o[start]):
        return None
    entry = float(o[start])
    sign = 1.0 if side == "long" else -1.0
    target = entry + sign * target_dist
    stop = entry - sign * stop_dist
    last_valid = start
    for j in range(start, min(start + horizon, n)):
        if not (np.isfinite(h[j]) and np.isfinite(lo[j])):
            break
        last_valid = j
        if j > start and np.isfinite(o[j]):
            if sign * (o[j] - stop) <= 0:
                return j, entry, float(o[j]), "stop"
            if sign * (o[j] - target) >= 0:
                return j, entry, float(o[j]), "target"
        stop_hit = lo[j] <= stop if sign > 0 else h[j] >= stop
        target_hit = h[j] >= target if sign > 0 else lo[j] <= target
        if stop_hit:
            return j, entry, stop, "stop"
        if target_hit:
            return j, entry, target, "target"
    exit_i = start + horizon
    if exit_i < n and np.isfinite(o[exit_i]) and last_valid == exit_i - 1:
        return exit_i, entry, float(o[exit_i]), "expiry"
    return last_valid, entry, float(c[last_valid]), "end_of_data"


def simulate_signal_trades(signals: pd.DataFrame, data: MarketData, costs: CostModel) -> pd.DataFrame:
    """One row per signal with entry/exit, reason, gross/net return and R multiple."""
    cols = [
        "date",
        "symbol",
        "side",
        "probability",
        "entry_date",
        "exit_date",
        "entry_price",
        "exit_price",
        "exit_reason",
        "gross_return",
        "net_return",
        "r_multiple",
        "bars_held",
    ]
    if signals.empty:
        return pd.DataFrame(columns=cols)
    idx = data.index
    pos = {t: i for i, t in enumerate(idx)}
    arrays = {
        s: tuple(getattr(data, f)[s].to_numpy() for f in ("open", "high", "low", "close"))
        for s in signals["symbol"].unique()
    }
    rows = []
    for sig in signals.itertuples(index=False):
        o, h, lo, c = arrays[sig.symbol]
        res = walk_trade(
            sig.side, pos[sig.date] + 1, o, h, lo, c, sig.target_dist, sig.stop_dist, int(sig.horizon_days)
        )
        if res is None:
            continue
        exit_i, entry, exit_p, reason = res
        gross, net = net_trade_return(sig.side, entry, exit_p, costs)
        risk = sig.stop_dist / entry
        rows.append(
            {
                "date": sig.date,
                "symbol": sig.symbol,
                "side": sig.side,
                "probability": sig.probability,
                "entry_date": idx[pos[sig.date] + 1],
                "exit_date": idx[exit_i],
                "entry_price": entry,
                "exit_price": exit_p,
                "exit_reason": reason,
                "gross_return": gross,
                "net_return": net,
                "r_multiple": net / risk if risk > 0 else np.nan,
                "bars_held": exit_i - pos[sig.date],
            }
        )
    return pd.DataFrame(rows, columns=cols)
