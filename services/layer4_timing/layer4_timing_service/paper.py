"""Paper trading: executing a signal within the user's risk limits, and closing executions
with their signal.

An execution fills at the latest daily close of the symbol (the signal's entry if no newer bar
is known) and closes at the signal's exit price; its return is net of the same costs as the
signal's (``net_trade_return``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from cp_common.errors import BadRequest, Conflict, NotFound
from cp_models.backtest.costs import CostModel
from cp_models.backtest.trades import net_trade_return
from layer4_timing_service import clock
from layer4_timing_service.storage import bars, paper
from layer4_timing_service.storage import signals as store
from layer4_timing_service.storage.paper import Execution, RiskSettings
from layer4_timing_service.storage.signals import ACTIVE, SignalRecord

NOT_AVAILABLE = "Signal not available for execution"


@dataclass(frozen=True)
class Order:
    user_id: str
    signal_id: uuid.UUID
    #: Fraction of paper equity; ``None`` takes the signal's suggested size.
    size: float | None


def risk_at_stop(size: float, signal: SignalRecord, price: float) -> float:
    """Share of equity lost if the position is stopped out."""
    return size * signal.stop_distance / price


def check_risk(
    order_size: float, signal: SignalRecord, price: float, limits: RiskSettings, open_positions: int
) -> None:
    """Raise :class:`BadRequest` naming the first limit the order breaks."""
    if order_size <= 0:
        raise BadRequest("Position size must be above 0 (the signal suggests no position)")
    if order_size > limits.max_position_size + 1e-12:
        raise BadRequest(
            f"Position size {order_size:.4f} exceeds your maximum position size "
            f"{limits.max_position_size:.4f}"
        )
    if open_positions >= limits.max_open_positions:
        raise BadRequest(
            f"You already hold {open_positions} open positions (maximum {limits.max_open_positions})"
        )
    risk = risk_at_stop(order_size, signal, price)
    if risk > limits.max_risk_per_trade + 1e-12:
        raise BadRequest(
            f"Risk at the stop {risk:.4f} of equity exceeds your maximum risk per trade "
            f"{limits.max_risk_per_trade:.4f}"
        )


async def _available(conn: asyncpg.Connection, signal_id: uuid.UUID, clock_mode: str) -> SignalRecord:
    signal = await store.get(conn, signal_id)
    if signal is None:
        raise NotFound("Signal not found")
    if signal.status != ACTIVE:
        raise BadRequest(f"{NOT_AVAILABLE}: it is {signal.status}")
    current = await clock.now(conn, clock_mode)
    if signal.expires_at <= current:
        raise BadRequest(f"{NOT_AVAILABLE}: it expired at {signal.expires_at.isoformat()}")
    return signal


async def execute(
    conn: asyncpg.Connection, order: Order, defaults: RiskSettings, clock_mode: str
) -> Execution:
    """Validate and record a paper execution (inside the caller's transaction)."""
    limits = await paper.risk_settings_for_update(conn, order.user_id, defaults)
    signal = await _available(conn, order.signal_id, clock_mode)
    price = (await bars.latest_closes(conn, [signal.symbol])).get(signal.symbol) or signal.entry_price
    size = order.size if order.size is not None else signal.position_size
    check_risk(size, signal, price, limits, await paper.open_count(conn, order.user_id))
    notional = size * limits.paper_equity
    stored = await paper.insert(
        conn,
        Execution(
            id=uuid.uuid4(),
            user_id=order.user_id,
            signal_id=signal.id,
            symbol=signal.symbol,
            side=signal.signal_type,
            size=size,
            notional=notional,
            quantity=notional / price,
            entry_price=price,
            executed_at=await clock.now(conn, clock_mode),
            status="open",
            exit_price=None,
            closed_at=None,
            net_return=None,
            realised_pnl=None,
        ),
    )
    if stored is None:
        raise Conflict("You already executed this signal")
    return stored


async def close_with_signal(
    conn: asyncpg.Connection, signal: SignalRecord, costs: CostModel, closed_at: datetime
) -> int:
    """Close every open execution of a closed signal at its exit price (for a cancelled signal
    without one, the latest close); returns how many were closed."""
    executions = await paper.open_for_signal(conn, signal.id)
    if not executions:
        return 0
    exit_price = signal.exit_price
    if exit_price is None:
        exit_price = (await bars.latest_closes(conn, [signal.symbol])).get(signal.symbol)
    for execution in executions:
        price = exit_price if exit_price is not None else execution.entry_price
        _, net = net_trade_return(execution.side, execution.entry_price, price, costs)
        await paper.close(conn, execution.id, price, closed_at, net, net * execution.notional)
    return len(executions)


def unrealised(execution: Execution, mark: float) -> float:
    """Mark-to-market P&L of an open execution (before exit costs)."""
    sign = 1.0 if execution.side == "long" else -1.0
    return sign * execution.quantity * (mark - execution.entry_price)
