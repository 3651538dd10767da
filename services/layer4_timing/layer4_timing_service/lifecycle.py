"""Outcome tracking: daily candles from ``market.candles.v1`` move active signals through their
life (entry filled -> target hit / stopped out / expired) by the backtest's exit rules.

Exactly one replica works on a symbol at a time because the fleet's replicas share one Kafka
consumer group: candles are keyed by symbol, so each symbol's partition is owned by one member,
and the candle, the signal's change, its outbox events and the processed-event claim commit in
one transaction. Partition ownership was chosen over a global lock because it spreads the work
over replicas and needs nothing beyond the consumer the runtime already runs. During a
rebalance a record can reach two members; the processed-event claim and the compare-and-set
on ``status = 'active'`` (``storage.signals.close``) make the second one change nothing.
"""

from __future__ import annotations

import logging
import math
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import asyncpg
import pandas as pd

from cp_common.kafka.consumer import Event, PermanentError
from cp_models.backtest.costs import CostModel
from cryptopredict.common.v1 import market_pb2
from cryptopredict.events.v1.signals_pb2 import SignalChanged
from layer4_timing_service import events, paper
from layer4_timing_service.exit_rules import Bar, Progress, calendar, follow_on
from layer4_timing_service.metrics import SIGNALS_CLOSED
from layer4_timing_service.model_adapter import trade_signal
from layer4_timing_service.storage import bars
from layer4_timing_service.storage import evidence as evidence_store
from layer4_timing_service.storage import signals as store
from layer4_timing_service.storage.signals import Closing, SignalRecord

log = logging.getLogger(__name__)
#: The interval the signals' rules are defined on (the backtest trades daily bars).
TRACKED_INTERVAL = market_pb2.INTERVAL_1D
UNFILLABLE = "no bar to enter at after the decision day"


def candle_bar(candle: market_pb2.Candle) -> Bar:
    """The daily bar of a candle event; :class:`PermanentError` (dead letter) if it is not one."""
    values = (candle.open, candle.high, candle.low, candle.close)
    if not candle.symbol or not all(math.isfinite(v) and v > 0 for v in values):
        raise PermanentError("candle without a symbol or with a non-positive or non-finite price")
    if candle.high < max(candle.open, candle.close, candle.low) or candle.low > min(
        candle.open, candle.close
    ):
        raise PermanentError("candle whose high/low do not bound its open and close")
    open_time = candle.open_time.ToDatetime(tzinfo=UTC)
    return Bar(open_time, candle.open, candle.high, candle.low, candle.close)


class Tracker:
    def __init__(self, costs: CostModel, *, evidence_window: int, evidence_min_weight: float) -> None:
        self.costs = costs
        self._evidence_window = evidence_window
        self._evidence_min_weight = evidence_min_weight
        #: Called after every change of signals (in the changing transaction, before its commit).
        self.on_change: list[Callable[[], None]] = []

    def _changed(self) -> None:
        for callback in self.on_change:
            callback()

    async def on_candle(self, event: Event, conn: asyncpg.Connection) -> None:
        """Consumer handler for ``market.candles.v1``, chained after the kit's read-model update."""
        candle = event.message.candle
        if candle.interval != TRACKED_INTERVAL:
            return
        bar = candle_bar(candle)
        await self.advance(conn, candle.symbol, bar.open_time.date())

    async def advance(self, conn: asyncpg.Connection, symbol: str, day: date) -> int:
        """Re-walk every active signal on ``symbol`` decided before ``day``; returns the changes."""
        active = await store.active_for_symbol(conn, symbol, before=day)
        if not active:
            return 0
        first_entry = min(s.decision_date for s in active) + timedelta(days=1)
        history = calendar(await bars.since(conn, symbol, first_entry), pd.Timestamp(first_entry, tz="UTC"))
        changes: list[SignalChanged] = []
        for signal in active:
            changes.extend(
                await self._apply(conn, signal, follow_on(trade_signal(signal), history, self.costs))
            )
        if changes:
            await events.publish(conn, changes)
            self._changed()
        return len(changes)

    async def _apply(
        self, conn: asyncpg.Connection, signal: SignalRecord, progress: Progress
    ) -> list[SignalChanged]:
        if progress.unfillable:
            closing = Closing("cancelled", datetime.now(UTC), reason=UNFILLABLE)
            done = await store.close(conn, signal.id, closing)
            return [await self._closed(conn, done)] if done else []
        changes: list[SignalChanged] = []
        if progress.entry_price is not None and signal.entry_fill_price is None:
            filled_at = datetime.combine(
                signal.decision_date + timedelta(days=1), datetime.min.time(), tzinfo=UTC
            )
            filled = await store.mark_filled(conn, signal, progress.entry_price, filled_at)
            if filled is not None:
                signal = filled
                changes.append(events.updated(filled, "entry_filled"))
        if progress.exit is not None:
            exit_ = progress.exit
            closing = Closing(
                exit_.status,
                exit_.closed_at,
                exit_price=exit_.exit_price,
                gross_return=exit_.gross_return,
                net_return=exit_.net_return,
                bars_held=exit_.bars_held,
                reason=exit_.reason,
            )
            done = await store.close(conn, signal.id, closing)
            if done is not None:
                changes.append(await self._closed(conn, done))
        return changes

    async def _closed(self, conn: asyncpg.Connection, signal: SignalRecord) -> SignalChanged:
        """Everything that follows a close, in the same transaction: executions, evidence."""
        closed_at = signal.closed_at or datetime.now(UTC)
        await paper.close_with_signal(conn, signal, self.costs, closed_at)
        await evidence_store.record_outcome(
            conn, signal, window=self._evidence_window, min_weight=self._evidence_min_weight
        )
        SIGNALS_CLOSED.labels(signal.status).inc()
        log.info("signal closed", extra={"signal_id": str(signal.id), "status": signal.status})
        return events.closed(signal)

    async def cancel(
        self, conn: asyncpg.Connection, signal_id: uuid.UUID, reason: str
    ) -> SignalRecord | None:
        """An admin's cancellation; ``None`` if the signal is not active (any more)."""
        done = await store.close(conn, signal_id, Closing("cancelled", datetime.now(UTC), reason=reason))
        if done is None:
            return None
        await events.publish(conn, [await self._closed(conn, done)])
        self._changed()
        return done
