"""The daily bars the tracker walks signals over: the layer kit's market read model
(``market_candles_1d``), which the kit's candle handler has updated earlier in the same
transaction."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import asyncpg

from layer4_timing_service.exit_rules import Bar


async def since(conn: asyncpg.Connection, symbol: str, first_day: date) -> list[Bar]:
    rows = await conn.fetch(
        "SELECT open_time, open, high, low, close FROM market_candles_1d "
        "WHERE symbol = $1 AND open_time >= $2 ORDER BY open_time",
        symbol,
        datetime.combine(first_day, time(), tzinfo=UTC),
    )
    return [Bar(**dict(r)) for r in rows]


async def latest_closes(conn: asyncpg.Connection, symbols: list[str]) -> dict[str, float]:
    rows = await conn.fetch(
        "SELECT DISTINCT ON (symbol) symbol, close FROM market_candles_1d WHERE symbol = ANY($1::text[]) "
        "ORDER BY symbol, open_time DESC",
        symbols,
    )
    return {r["symbol"]: float(r["close"]) for r in rows}


async def newest_open_time(conn: asyncpg.Connection) -> datetime | None:
    value: datetime | None = await conn.fetchval("SELECT max(open_time) FROM market_candles_1d")
    return value
