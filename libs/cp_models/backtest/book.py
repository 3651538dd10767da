"""Backtest that follows ``TradeSignal``s exactly as a user would.

Each signal is a lot bought at its entry day's open with ``size`` x the equity of the
previous close; where and when it leaves is decided by ``signals.resolve_exit`` (the same
function the lifecycle tracker uses), so the backtest exits by exactly the rules the signal
states. Lots of one symbol that leave and enter at the same open (a weekly renewal) are
netted: only the difference is traded and pays costs. Positions are marked at every close;
cash earns nothing; a lot still open at the end is sold at the last close.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cp_models.backtest.costs import CostModel
from cp_models.backtest.portfolio import BacktestResult
from cp_models.data import MarketData
from cp_models.signals import ExitOutcome, TradeSignal, resolve_exit


@dataclass
class _Lot:
    signal: TradeSignal
    outcome: ExitOutcome
    qty: float = 0.0


def resolve_all(
    signals: list[TradeSignal], data: MarketData, end: pd.Timestamp, costs: CostModel
) -> list[_Lot]:
    frames: dict[str, pd.DataFrame] = {}
    lots = []
    for s in signals:
        if s.symbol not in frames:
            frames[s.symbol] = pd.DataFrame(
                {f: getattr(data, f)[s.symbol].loc[:end] for f in ("open", "high", "low", "close")}
            )
        lots.append(_Lot(s, resolve_exit(s, frames[s.symbol], costs)))
    return lots


class _Book:
    def __init__(self, data: MarketData, costs: CostModel):
        self.cash = 1.0
        self.held: dict[str, list[_Lot]] = defaultdict(list)
        self.costs = costs
        self.cost_paid = 0.0
        self.turnover = 0.0
        self.entries_from_flat = 0
        self.o, self.c = data.open, data.close.ffill()

    def qty(self, sym: str) -> float:
        return sum(lot.qty for lot in self.held[sym])

    def trade(self, sym: str, dq: float, price: float, equity: float) -> None:
        notional = dq * price
        fee = abs(notional) * self.costs.per_side
        self.cash -= notional + fee
        self.cost_paid += fee
        self.turnover += abs(notional) / max(equity, 1e-12)

    def open_auction(self, t: pd.Timestamp, entering: list[_Lot], equity: float) -> None:
        changes: dict[str, float] = defaultdict(float)
        for sym, lots in self.held.items():
            for lot in [x for x in lots if x.outcome.exit_at == "open" and x.outcome.exit_date == t]:
                changes[sym] -= lot.qty
                lots.remove(lot)
        for lot in entering:
            sym = lot.signal.symbol
            px = float(self.o.at[t, sym])
            if not (np.isfinite(px) and px > 0 and np.isfinite(lot.outcome.entry_price)):
                continue
            lot.qty = lot.signal.size * equity / px
            if self.qty(sym) <= 1e-12 and changes[sym] >= -1e-12:
                self.entries_from_flat += 1
            self.held[sym].append(lot)
            changes[sym] += lot.qty
        for sym, dq in changes.items():
            if abs(dq) > 1e-12:
                self.trade(sym, dq, float(self.o.at[t, sym]), equity)

    def exits_at(self, t: pd.Timestamp, at: str, equity: float) -> None:
        for sym, lots in self.held.items():
            for lot in [x for x in lots if x.outcome.exit_at == at and x.outcome.exit_date == t]:
                self.trade(sym, -lot.qty, lot.outcome.exit_price, equity)
                lots.remove(lot)

    def value(self, t: pd.Timestamp) -> tuple[float, float]:
        gross = sum(self.qty(s) * float(self.c.at[t, s]) for s in self.held if self.held[s])
        return self.cash + gross, gross

    def liquidate(self, t: pd.Timestamp, equity: float) -> None:
        for sym, lots in self.held.items():
            q = sum(x.qty for x in lots)
            if q > 0:
                self.trade(sym, -q, float(self.c.at[t, sym]), equity)
            lots.clear()


@dataclass(frozen=True)
class BookRun:
    result: BacktestResult
    lots: pd.DataFrame  # one row per followed signal with its exit
    turnover_per_year: float
    cost_share: float  # costs paid / gross profit before costs (NaN when not positive)
    entries_from_flat: int


def run_book(
    signals: list[TradeSignal], data: MarketData, start: pd.Timestamp, end: pd.Timestamp, costs: CostModel
) -> BookRun:
    idx = data.index
    days = idx[(idx >= start) & (idx <= end)]
    lots = resolve_all(signals, data, days[-1] if len(days) else end, costs)
    by_entry: dict[pd.Timestamp, list[_Lot]] = defaultdict(list)
    for lot in lots:
        by_entry[lot.signal.entry_date].append(lot)
    book = _Book(data, costs)
    equity, rets, expo = 1.0, [], []
    for t in days:
        book.open_auction(t, by_entry.get(t, []), equity)
        book.exits_at(t, "intraday", equity)
        book.exits_at(t, "close", equity)
        if t == days[-1]:
            book.liquidate(t, equity)
        value, gross = book.value(t)
        rets.append(value / equity - 1.0)
        expo.append(gross / value if value > 0 else 0.0)
        equity = value
    returns = pd.Series(rets, index=days, dtype="float64")
    years = max(len(days) / 365.0, 1e-9)
    log = _lot_log(lots)
    gross_pnl = float(equity - 1.0 + book.cost_paid)
    result = BacktestResult(
        returns, pd.Series(expo, index=days, dtype="float64"), book.entries_from_flat, log
    )
    share = book.cost_paid / gross_pnl if gross_pnl > 0 else float("nan")
    return BookRun(result, log, book.turnover / years, share, book.entries_from_flat)


def _lot_log(lots: list[_Lot]) -> pd.DataFrame:
    rows = [
        {
            "decided_at": x.signal.decided_at,
            "symbol": x.signal.symbol,
            "size": x.signal.size,
            "entry_price": x.outcome.entry_price,
            "exit_date": x.outcome.exit_date,
            "exit_price": x.outcome.exit_price,
            "status": x.outcome.status,
            "net_return": x.outcome.net_return,
            "confidence": x.signal.confidence,
        }
        for x in lots
        if x.qty > 0
    ]
    return pd.DataFrame(rows)
