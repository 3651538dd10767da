"""Paper trading: each user's risk settings and executions (their paper portfolio)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import asyncpg


@dataclass(frozen=True)
class RiskSettings:
    paper_equity: float
    max_position_size: float
    max_open_positions: int
    max_risk_per_trade: float


@dataclass(frozen=True)
class Execution:
    id: uuid.UUID
    user_id: str
    signal_id: uuid.UUID
    symbol: str
    side: str
    size: float
    notional: float
    quantity: float
    entry_price: float
    executed_at: datetime
    status: str
    exit_price: float | None
    closed_at: datetime | None
    net_return: float | None
    realised_pnl: float | None

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> Execution:
        return cls(**dict(row))


_RISK_COLUMNS = "paper_equity, max_position_size, max_open_positions, max_risk_per_trade"


async def risk_settings_for_update(
    conn: asyncpg.Connection, user_id: str, defaults: RiskSettings
) -> RiskSettings:
    """The user's settings (created from ``defaults`` on first use), locked until the
    transaction ends so one user's executions are checked one at a time."""
    await conn.execute(
        "INSERT INTO user_risk_settings "
        "(user_id, paper_equity, max_position_size, max_open_positions, max_risk_per_trade) "
        "VALUES ($1, $2, $3, $4, $5) "
        "ON CONFLICT (user_id) DO NOTHING",
        user_id,
        defaults.paper_equity,
        defaults.max_position_size,
        defaults.max_open_positions,
        defaults.max_risk_per_trade,
    )
    row = await conn.fetchrow(
        f"SELECT {_RISK_COLUMNS} FROM user_risk_settings WHERE user_id = $1 FOR UPDATE",  # noqa: S608
        user_id,
    )
    return RiskSettings(**dict(row))


async def risk_settings(conn: asyncpg.Connection, user_id: str, defaults: RiskSettings) -> RiskSettings:
    row = await conn.fetchrow(
        f"SELECT {_RISK_COLUMNS} FROM user_risk_settings WHERE user_id = $1",  # noqa: S608
        user_id,
    )
    return RiskSettings(**dict(row)) if row else defaults


async def save_risk_settings(conn: asyncpg.Connection, user_id: str, values: RiskSettings) -> RiskSettings:
    row = await conn.fetchrow(
        "INSERT INTO user_risk_settings "
        "(user_id, paper_equity, max_position_size, max_open_positions, max_risk_per_trade) "
        "VALUES ($1, $2, $3, $4, $5) "
        "ON CONFLICT (user_id) DO UPDATE SET paper_equity = EXCLUDED.paper_equity, "
        "max_position_size = EXCLUDED.max_position_size, max_open_positions = EXCLUDED.max_open_positions, "
        "max_risk_per_trade = EXCLUDED.max_risk_per_trade, updated_at = now() "
        "RETURNING paper_equity, max_position_size, max_open_positions, max_risk_per_trade",
        user_id,
        values.paper_equity,
        values.max_position_size,
        values.max_open_positions,
        values.max_risk_per_trade,
    )
    return RiskSettings(**dict(row))


async def open_count(conn: asyncpg.Connection, user_id: str) -> int:
    return int(
        await conn.fetchval("SELECT count(*) FROM executions WHERE user_id = $1 AND status = 'open'", user_id)
    )


async def insert(conn: asyncpg.Connection, execution: Execution) -> Execution | None:
    """Store a new execution; ``None`` if the user already executed this signal."""
    row = await conn.fetchrow(
        "INSERT INTO executions (id, user_id, signal_id, symbol, side, size, notional, quantity, "
        "entry_price, executed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) "
        "ON CONFLICT (user_id, signal_id) DO NOTHING RETURNING *",
        execution.id,
        execution.user_id,
        execution.signal_id,
        execution.symbol,
        execution.side,
        execution.size,
        execution.notional,
        execution.quantity,
        execution.entry_price,
        execution.executed_at,
    )
    return Execution.from_row(row) if row else None


async def for_user(
    conn: asyncpg.Connection, user_id: str, *, status: str | None = None, limit: int = 100
) -> list[Execution]:
    rows = await conn.fetch(
        "SELECT * FROM executions WHERE user_id = $1 AND ($2::text IS NULL OR status = $2) "
        "ORDER BY executed_at DESC, id DESC LIMIT $3",
        user_id,
        status,
        limit,
    )
    return [Execution.from_row(r) for r in rows]


async def realised_total(conn: asyncpg.Connection, user_id: str) -> float:
    value = await conn.fetchval(
        "SELECT coalesce(sum(realised_pnl), 0) FROM executions WHERE user_id = $1 AND status = 'closed'",
        user_id,
    )
    return float(value)


async def open_for_signal(conn: asyncpg.Connection, signal_id: uuid.UUID) -> list[Execution]:
    rows = await conn.fetch(
        "SELECT * FROM executions WHERE signal_id = $1 AND status = 'open' ORDER BY id FOR UPDATE", signal_id
    )
    return [Execution.from_row(r) for r in rows]


async def close(
    conn: asyncpg.Connection,
    execution_id: uuid.UUID,
    exit_price: float,
    closed_at: datetime,
    net_return: float,
    pnl: float,
) -> None:
    await conn.execute(
        "UPDATE executions SET status = 'closed', exit_price = $2, closed_at = $3, net_return = $4, "
        "realised_pnl = $5 WHERE id = $1 AND status = 'open'",
        execution_id,
        exit_price,
        closed_at,
        net_return,
        pnl,
    )
