"""How a tracked signal's trade goes: ``cp_models.signals.resolve_exit``, the rule the backtest
exits by (take-profit at the target or the open above it, stop on a close with the exit at the
next open, expiry at the open after the horizon, costs on both fills).

The tracker keeps the daily bars since the decision and hands them to ``resolve_exit`` on a
daily calendar (a missing day is NaN, as in ``MarketData``, where the backtest ends the trade at
the last close). This module only shapes the inputs and names the result.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd

from cp_models.backtest.costs import CostModel
from cp_models.signals import TradeSignal, resolve_exit

DAY = timedelta(days=1)
#: ``resolve_exit``'s statuses -> the signal statuses of the blueprint; a data gap ends the
#: trade at the last close (the backtest's ``end_of_data``) and counts as an expiry.
STATUS_OF = {
    "target_hit": "target_hit",
    "stopped_out": "stopped_out",
    "expired": "expired",
    "end_of_data": "expired",
}
COLUMNS = ("open", "high", "low", "close")


@dataclass(frozen=True)
class Bar:
    open_time: datetime
    open: float
    high: float
    low: float
    close: float


@dataclass(frozen=True)
class Exit:
    status: str
    exit_price: float
    #: When the bar that closed the trade closed (the tracker learns of it then).
    closed_at: datetime
    gross_return: float
    net_return: float
    bars_held: int
    #: Why, when it was not a plain target/stop/expiry (a data gap).
    reason: str | None = None


@dataclass(frozen=True)
class Progress:
    """Where a trade stands after the bars seen so far."""

    #: The entry fill (open of the first bar after the decision), once that bar is known.
    entry_price: float | None
    exit: Exit | None
    #: True when the entry day has no bar but later days do: the backtest would not trade.
    unfillable: bool = False


def calendar(bars: Sequence[Bar], start: pd.Timestamp) -> pd.DataFrame:
    """The bars from ``start`` on, on a daily calendar (a missing day is a row of NaN)."""
    frame = pd.DataFrame(
        [[b.open, b.high, b.low, b.close] for b in bars],
        index=pd.DatetimeIndex([pd.Timestamp(b.open_time) for b in bars]),
        columns=list(COLUMNS),
        dtype="float64",
    )
    frame = frame[frame.index >= start]
    if frame.empty:
        return frame
    return frame.reindex(pd.date_range(start, frame.index.max(), freq="D"))


def follow(signal: TradeSignal, bars: Sequence[Bar], costs: CostModel) -> Progress:
    """The trade's state after ``bars`` (only those from the entry day on count)."""
    return follow_on(signal, calendar(bars, signal.entry_date), costs)


def follow_on(signal: TradeSignal, frame: pd.DataFrame, costs: CostModel) -> Progress:
    """:func:`follow` on a :func:`calendar` that starts at or before the entry day (one
    calendar serves every signal of a symbol)."""
    frame = frame[frame.index >= signal.entry_date]
    if frame.empty:
        return Progress(entry_price=None, exit=None)
    if frame.index[0] != signal.entry_date or not pd.notna(frame["open"].iloc[0]):
        return Progress(entry_price=None, exit=None, unfillable=True)
    outcome = resolve_exit(signal, frame, costs)
    if outcome.status == "open" or outcome.exit_date is None:
        return Progress(entry_price=outcome.entry_price, exit=None)
    exit_day = pd.Timestamp(outcome.exit_date)
    return Progress(
        entry_price=outcome.entry_price,
        exit=Exit(
            status=STATUS_OF[outcome.status],
            exit_price=outcome.exit_price,
            closed_at=(exit_day + pd.Timedelta(days=1)).to_pydatetime(),
            gross_return=outcome.gross_return,
            net_return=outcome.net_return,
            bars_held=(exit_day - signal.entry_date).days + 1,
            reason="data gap: closed at the last close" if outcome.status == "end_of_data" else None,
        ),
    )
