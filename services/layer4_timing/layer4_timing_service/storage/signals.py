"""Signals: stored once per (cascade run, symbol), then filled, closed or cancelled in place.

Every status change is a compare-and-set on ``status = 'active'``, so two writers racing for
the same signal (a rebalance handing its partition over, an admin cancelling while a candle
closes it) change it once; the loser sees ``None`` and publishes nothing.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from typing import Any

import asyncpg

ACTIVE = "active"
STATUSES = ("active", "target_hit", "stopped_out", "expired", "cancelled")


@dataclass(frozen=True)
class Vote:
    """One piece of evidence behind a signal: who voted what, with which weight."""

    voter: str
    action: str  # long | short (in favour of that side) | hold (not in favour)
    weight: float
    confidence: float = 0.0  # the evidence's own value (a score, a probability, a rank)
    detail: str = ""


@dataclass(frozen=True)
class NewSignal:
    """A signal as the model produced it, before it is stored."""

    cascade_run_id: str
    symbol: str
    signal_type: str
    entry_price: float
    target_price: float
    stop_loss: float
    target_distance: float
    stop_distance: float
    horizon_bars: int
    #: Calibrated probability the trade wins (``None``: no L4 estimate, e.g. the BTC sleeve).
    confidence: float | None
    probability: float | None
    agreement: float | None
    risk_level: str
    risk_reward_ratio: float
    position_size: float
    time_horizon_hours: int
    decision_date: date
    generated_at: datetime
    expires_at: datetime
    ai_analysis: str
    market_regime: str | None
    model_version: str
    market_context: dict[str, Any] = field(default_factory=dict)
    votes: tuple[Vote, ...] = ()


@dataclass(frozen=True)
class SignalRecord(NewSignal):
    id: uuid.UUID = field(default_factory=uuid.uuid4)
    status: str = ACTIVE
    entry_fill_price: float | None = None
    entry_filled_at: datetime | None = None
    exit_price: float | None = None
    closed_at: datetime | None = None
    gross_return: float | None = None
    net_return: float | None = None
    bars_held: int | None = None
    close_reason: str | None = None

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> SignalRecord:
        values = dict(row)
        values["votes"] = tuple(Vote(**v) for v in json.loads(values["votes"]))
        values["market_context"] = json.loads(values["market_context"])
        for extra in ("created_at", "updated_at"):
            values.pop(extra, None)
        return cls(**values)


_INSERT_COLUMNS = (
    "id",
    "cascade_run_id",
    "symbol",
    "signal_type",
    "entry_price",
    "target_price",
    "stop_loss",
    "target_distance",
    "stop_distance",
    "horizon_bars",
    "confidence",
    "probability",
    "agreement",
    "risk_level",
    "risk_reward_ratio",
    "position_size",
    "time_horizon_hours",
    "decision_date",
    "generated_at",
    "expires_at",
    "ai_analysis",
    "market_regime",
    "market_context",
    "votes",
    "model_version",
)
# One row per element of each array parameter, in _INSERT_COLUMNS order.
_INSERT_SQL = """
INSERT INTO signals (id, cascade_run_id, symbol, signal_type, entry_price, target_price, stop_loss,
    target_distance, stop_distance, horizon_bars, confidence, probability, agreement, risk_level,
    risk_reward_ratio, position_size, time_horizon_hours, decision_date, generated_at, expires_at,
    ai_analysis, market_regime, market_context, votes, model_version)
SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::float8[], $6::float8[],
    $7::float8[], $8::float8[], $9::float8[], $10::int4[], $11::float8[], $12::float8[], $13::float8[],
    $14::text[], $15::float8[], $16::float8[], $17::int4[], $18::date[], $19::timestamptz[],
    $20::timestamptz[], $21::text[], $22::text[], $23::jsonb[], $24::jsonb[], $25::text[])
ON CONFLICT (cascade_run_id, symbol) DO NOTHING
RETURNING *
"""


def _insert_values(signal: SignalRecord) -> tuple[Any, ...]:
    values = {name: getattr(signal, name) for name in _INSERT_COLUMNS}
    values["market_context"] = json.dumps(signal.market_context)
    values["votes"] = json.dumps([v.__dict__ for v in signal.votes])
    return tuple(values[name] for name in _INSERT_COLUMNS)


def with_id(signal: NewSignal) -> SignalRecord:
    """The signal with the id it will be stored and published under."""
    return SignalRecord(**{f.name: getattr(signal, f.name) for f in fields(NewSignal)}, id=uuid.uuid4())


async def insert_new(conn: asyncpg.Connection, signals: Sequence[NewSignal]) -> list[SignalRecord]:
    """Store the signals whose (run, symbol) is new, in one round trip; returns those stored.
    A :class:`SignalRecord` keeps its id; a plain :class:`NewSignal` gets a new one."""
    if not signals:
        return []
    records = [s if isinstance(s, SignalRecord) else with_id(s) for s in signals]
    columns = list(zip(*(_insert_values(s) for s in records), strict=True))
    rows = await conn.fetch(_INSERT_SQL, *[list(c) for c in columns])
    return [SignalRecord.from_row(r) for r in rows]


async def for_run(conn: asyncpg.Connection, cascade_run_id: str) -> list[SignalRecord]:
    rows = await conn.fetch("SELECT * FROM signals WHERE cascade_run_id = $1 ORDER BY symbol", cascade_run_id)
    return [SignalRecord.from_row(r) for r in rows]


async def get(
    conn: asyncpg.Connection, signal_id: uuid.UUID, *, for_update: bool = False
) -> SignalRecord | None:
    lock = " FOR UPDATE" if for_update else ""
    row = await conn.fetchrow(f"SELECT * FROM signals WHERE id = $1{lock}", signal_id)  # noqa: S608
    return SignalRecord.from_row(row) if row else None


@dataclass(frozen=True)
class SignalFilter:
    status: str = ACTIVE
    confidence_min: float = 0.0
    symbol: str | None = None


@dataclass(frozen=True)
class Cursor:
    """Position after the last signal of a page (listing order: newest first)."""

    generated_at: datetime
    id: uuid.UUID


async def page(
    conn: asyncpg.Connection, where: SignalFilter, limit: int, after: Cursor | None = None
) -> list[SignalRecord]:
    rows = await conn.fetch(
        "SELECT * FROM signals WHERE status = $1 AND coalesce(confidence, 0) >= $2 "
        "AND ($3::text IS NULL OR symbol = $3) "
        "AND ($4::timestamptz IS NULL OR (generated_at, id) < ($4, $5)) "
        "ORDER BY generated_at DESC, id DESC LIMIT $6",
        where.status,
        where.confidence_min,
        where.symbol,
        after.generated_at if after else None,
        after.id if after else None,
        limit,
    )
    return [SignalRecord.from_row(r) for r in rows]


async def count(conn: asyncpg.Connection, where: SignalFilter) -> int:
    return int(
        await conn.fetchval(
            "SELECT count(*) FROM signals WHERE status = $1 AND coalesce(confidence, 0) >= $2 "
            "AND ($3::text IS NULL OR symbol = $3)",
            where.status,
            where.confidence_min,
            where.symbol,
        )
    )


async def active_for_symbol(conn: asyncpg.Connection, symbol: str, before: date) -> list[SignalRecord]:
    """Active signals on ``symbol`` decided before ``before`` (locked for this transaction)."""
    rows = await conn.fetch(
        "SELECT * FROM signals WHERE status = 'active' AND symbol = $1 AND decision_date < $2 "
        "ORDER BY id FOR UPDATE SKIP LOCKED",
        symbol,
        before,
    )
    return [SignalRecord.from_row(r) for r in rows]


async def mark_filled(
    conn: asyncpg.Connection, signal: SignalRecord, fill_price: float, filled_at: datetime
) -> SignalRecord | None:
    """Record the entry fill (the levels stay: target and stop are prices, as in the backtest)."""
    row = await conn.fetchrow(
        "UPDATE signals SET entry_fill_price = $2, entry_filled_at = $3, updated_at = now() "
        "WHERE id = $1 AND status = 'active' AND entry_fill_price IS NULL RETURNING *",
        signal.id,
        fill_price,
        filled_at,
    )
    return SignalRecord.from_row(row) if row else None


@dataclass(frozen=True)
class Closing:
    status: str
    closed_at: datetime
    exit_price: float | None = None
    gross_return: float | None = None
    net_return: float | None = None
    bars_held: int | None = None
    reason: str | None = None


async def close(conn: asyncpg.Connection, signal_id: uuid.UUID, closing: Closing) -> SignalRecord | None:
    """Close an active signal; ``None`` when it was no longer active (someone else closed it)."""
    row = await conn.fetchrow(
        "UPDATE signals SET status = $2, closed_at = $3, exit_price = $4, gross_return = $5, "
        "net_return = $6, bars_held = $7, close_reason = $8, updated_at = now() "
        "WHERE id = $1 AND status = 'active' RETURNING *",
        signal_id,
        closing.status,
        closing.closed_at,
        closing.exit_price,
        closing.gross_return,
        closing.net_return,
        closing.bars_held,
        closing.reason,
    )
    return SignalRecord.from_row(row) if row else None


async def closed_since(conn: asyncpg.Connection, since: datetime) -> list[SignalRecord]:
    """Signals that closed with a trade (not cancelled) since ``since``, oldest first."""
    rows = await conn.fetch(
        "SELECT * FROM signals WHERE closed_at >= $1 AND status <> 'cancelled' "
        "AND net_return IS NOT NULL ORDER BY closed_at, id",
        since,
    )
    return [SignalRecord.from_row(r) for r in rows]
