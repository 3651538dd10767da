"""Capital-aware daily backtests: the cascade's signal portfolio and weight-based baselines.

Accounting (both engines): decisions are taken at the close of day ``t`` and filled at the
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


@dataclass
class _Position:
    symbol: str
    side: str
    qty: float
    entry: float
    target: float
    stop: float
    exit_index: int
    opened_at: pd.Timestamp


@dataclass(frozen=True)
class PortfolioRules:
    allow_short: bool = False
    max_gross: float = 1.0  # no leverage
    min_weight: float = 0.02  # skip dust positions


def run_signal_portfolio(  # noqa: C901 - split in the signal-quality work
    signals: pd.DataFrame,
    data: MarketData,
    start: pd.Timestamp,
    end: pd.Timestamp,
    costs: CostModel,
    rules: PortfolioRules | None = None,
) -> BacktestResult:
    """Follow the signals: enter at the next open with the signal's weight (scaled down to the
    free capacity), exit on target, stop or expiry exactly like ``trades.walk_trade``."""
    rules = rules or PortfolioRules()
    idx = data.index
    days = idx[(idx >= start) & (idx <= end)]
    pos_of = {t: i for i, t in enumerate(idx)}
    o, h, lo, c = (getattr(data, f) for f in ("open", "high", "low", "close"))
    marks = c.ffill()
    by_day: dict[pd.Timestamp, pd.DataFrame] = {}
    if not signals.empty:
        sig = signals if rules.allow_short else signals[signals["side"] == "long"]
        sig = sig.sort_values(["date", "probability"], ascending=[True, False])
        by_day = {t: g for t, g in sig.groupby("date")}
    cash = 1.0
    positions: dict[str, _Position] = {}
    equity_prev = 1.0
    rets, expo, log = [], [], []
    pending: pd.DataFrame | None = None

    def close_position(p: _Position, price: float, when: pd.Timestamp, reason: str) -> None:
        nonlocal cash
        if p.side == "long":
            cash += p.qty * costs.sell_fill(price) * (1.0 - costs.fee)
        else:
            cash -= p.qty * costs.buy_fill(price) * (1.0 + costs.fee)
        log.append(
            {
                "symbol": p.symbol,
                "side": p.side,
                "opened": p.opened_at,
                "closed": when,
                "entry": p.entry,
                "exit": price,
                "reason": reason,
            }
        )

    for t in days:
        i = pos_of[t]
        # 1) time exits at the open
        for sym in list(positions):
            p = positions[sym]
            px = o.at[t, sym]
            if i >= p.exit_index and np.isfinite(px):
                close_position(p, float(px), t, "expiry")
                del positions[sym]
        # 2) entries from yesterday's signals
        if pending is not None:
            gross = sum(p.qty * float(marks[p.symbol].iloc[i - 1]) for p in positions.values()) / max(
                equity_prev, 1e-12
            )
            for s in pending.itertuples(index=False):
                if s.symbol in positions:
                    continue
                px = o.at[t, s.symbol]
                if not np.isfinite(px):
                    continue
                w = min(float(s.weight), rules.max_gross - gross)
                if w < rules.min_weight:
                    continue
                notional = w * equity_prev
                sign = 1.0 if s.side == "long" else -1.0
                if s.side == "long":
                    qty = notional / (costs.buy_fill(px) * (1.0 + costs.fee))
                    cash -= notional
                else:
                    qty = notional / px
                    cash += qty * costs.sell_fill(px) * (1.0 - costs.fee)
                positions[s.symbol] = _Position(
                    s.symbol,
                    s.side,
                    qty,
                    float(px),
                    float(px) + sign * s.target_dist,
                    float(px) - sign * s.stop_dist,
                    i + int(s.horizon_days),
                    t,
                )
                gross += w
        # 3) barriers intraday (gap through at the open first)
        for sym in list(positions):
            p = positions[sym]
            op, hi, lw = o.at[t, sym], h.at[t, sym], lo.at[t, sym]
            if not (np.isfinite(hi) and np.isfinite(lw)):
                continue
            sign = 1.0 if p.side == "long" else -1.0
            if p.opened_at != t and np.isfinite(op):
                if sign * (op - p.stop) <= 0:
                    close_position(p, float(op), t, "stop")
                    del positions[sym]
                    continue
                if sign * (op - p.target) >= 0:
                    close_position(p, float(op), t, "target")
                    del positions[sym]
                    continue
            stop_hit = lw <= p.stop if sign > 0 else hi >= p.stop
            target_hit = hi >= p.target if sign > 0 else lw <= p.target
            if stop_hit:
                close_position(p, p.stop, t, "stop")
                del positions[sym]
            elif target_hit:
                close_position(p, p.target, t, "target")
                del positions[sym]
        # 4) mark to market; a position without a price today keeps its last close
        value = cash
        gross_value = 0.0
        for p in positions.values():
            px = float(marks[p.symbol].iloc[i])
            px = px if np.isfinite(px) else p.entry
            value += p.qty * px if p.side == "long" else -p.qty * px
            gross_value += p.qty * px
        rets.append(value / equity_prev - 1.0)
        expo.append(gross_value / value if value > 0 else 0.0)
        equity_prev = value
        pending = by_day.get(t)
        # positions whose data ended: close at the last close
        for sym in list(positions):
            if (
                i + 1 < len(idx)
                and not np.isfinite(o[sym].iloc[i + 1])
                and not np.isfinite(c[sym].iloc[i + 1])
            ):
                close_position(positions[sym], float(marks[sym].iloc[i]), t, "end_of_data")
                del positions[sym]
    # close what is still open at the end (marked at the last close, exit costs charged)
    if positions and len(days):
        last = days[-1]
        value_before = cash + sum(
            (p.qty if p.side == "long" else -p.qty) * float(marks.at[last, p.symbol])
            for p in positions.values()
        )
        for p in list(positions.values()):
            close_position(p, float(marks.at[last, p.symbol]), last, "end_of_test")
        positions.clear()
        if value_before > 0:
            rets[-1] = (1.0 + rets[-1]) * (cash / value_before) - 1.0
    returns = pd.Series(rets, index=days, dtype="float64")
    return BacktestResult(returns, pd.Series(expo, index=days, dtype="float64"), len(log), pd.DataFrame(log))


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
