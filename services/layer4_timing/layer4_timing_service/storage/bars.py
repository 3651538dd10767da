"""Daily bars of the tracked symbols, kept from ``market.candles.v1`` for as long as a signal
can need them (its decision day up to its horizon)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import asyncpg

from layer4_timing_service.exit_rules import Bar


async def upsert(conn: asyncpg.Connection, symbol: str, bar: Bar) -> None:
    await conn.execute(
        "INSERT INTO daily_bars (symbol, open_time, open, high, low, close) VALUES ($1, $2, $3, $4, $5, $6) "
        "ON CONFLICT (symbol, open_time) DO UPDATE SET open = EXCLUDED.open, high = EXCLUDED.high, "
        "low = EXCLUDED.low, close = EXCLUDED.close",
        symbol,
        bar.open_time,
        bar.open,
        bar.high,
        bar.low,
        bar.close,
    )


async def since(conn: asyncpg.Connection, symbol: str, first_day: date) -> list[Bar]:
    start = datetime.combine(first_day, time(), tzinfo=UTC)
    rows = await conn.fetch(
        "SELECT open_time, open, high, low, close FROM daily_bars "
        "WHERE symbol = $1 AND open_time >= $2 ORDER BY open_time",
        symbol,
        start,
    )
    return [Bar(**dict(r)) for r in rows]


async def latest_closes(conn: asyncpg.Connection, symbols: list[str]) -> dict[str, float]:
    rows = await conn.fetch(
        "SELECT DISTINCT ON (symbol) symbol, close FROM daily_bars WHERE symbol = ANY($1::text[]) "
        "ORDER BY symbol, open_time DESC",
        symbols,
    )
    return {r["symbol"]: float(r["close"]) for r in rows}


async def prune(conn: asyncpg.Connection, keep_days: int) -> int:
    """Drop bars older than ``keep_days`` before the newest bar (market time, so a replay of
    old history keeps what it needs)."""
    result = await conn.execute(
        "DELETE FROM daily_bars WHERE open_time < (SELECT max(open_time) FROM daily_bars) - $1::interval",
        timedelta(days=keep_days),
    )
    return int(result.split()[-1])
