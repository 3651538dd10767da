"""How a tracked signal's trade goes, by the backtest's own rules (``cp_models.backtest.trades``).

The tracker keeps the daily bars since a signal's decision day and hands them to the backtest's
``walk_trade`` on a daily calendar (a missing day is NaN, as in ``MarketData``): entry at the open
of the first bar after the decision, stop and target at the signal's distances from that fill, a
gap through a level fills at the open, a bar touching both counts as the stop, and without a touch
the trade exits at the open of the bar after the horizon. Returns are ``net_trade_return``'s.
Nothing here re-implements those rules; this module only shapes the inputs and names the result.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np

from cp_models.backtest.costs import CostModel
from cp_models.backtest.trades import net_trade_return, walk_trade

#: The backtest's exit reasons -> the signal statuses of the blueprint.
STATUS_OF_REASON = {"target": "target_hit", "stop": "stopped_out", "expiry": "expired"}
DAY = timedelta(days=1)


@dataclass(frozen=True)
class TradePlan:
    """What the tracker needs of a signal: direction, distances from the fill, horizon in bars."""

    side: str
    decision_date: date
    target_distance: float
    stop_distance: float
    horizon_bars: int


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


@dataclass(frozen=True)
class Progress:
    """Where a trade stands after the bars seen so far."""

    #: The entry fill (open of the first bar after the decision), once that bar is known.
    entry_price: float | None
    exit: Exit | None
    #: True when the first bar after the decision is missing, so the backtest would not trade.
    unfillable: bool = False


def follow(plan: TradePlan, bars: Sequence[Bar], costs: CostModel) -> Progress:
    """The trade's state after ``bars`` (any order; only those after the decision day count)."""
    first_day = plan.decision_date + DAY
    by_day = {b.open_time.date(): b for b in bars if b.open_time.date() >= first_day}
    if not by_day:
        return Progress(entry_price=None, exit=None)
    last_day = max(by_day)
    days = [first_day + DAY * i for i in range((last_day - first_day).days + 1)]
    o, h, lo, c = (
        np.array([getattr(by_day[d], f) if d in by_day else np.nan for d in days], dtype="float64")
        for f in ("open", "high", "low", "close")
    )
    walked = walk_trade(
        plan.side, 0, o, h, lo, c, plan.target_distance, plan.stop_distance, plan.horizon_bars
    )
    if walked is None:
        return Progress(entry_price=None, exit=None, unfillable=True)
    exit_i, entry, exit_price, reason = walked
    if reason not in STATUS_OF_REASON:  # "end_of_data": the trade is still open
        return Progress(entry_price=entry, exit=None)
    gross, net = net_trade_return(plan.side, entry, exit_price, costs)
    exit_bar = by_day[days[exit_i]]
    return Progress(
        entry_price=entry,
        exit=Exit(
            status=STATUS_OF_REASON[reason],
            exit_price=exit_price,
            closed_at=exit_bar.open_time + DAY,
            gross_return=gross,
            net_return=net,
            bars_held=exit_i + 1,
        ),
    )
