"""Reading candles: latest N for many symbols, a symbol's range, coverage and gaps."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from cp_market.candles import INTERVALS
from ingestion_service.storage.bulk import COLUMNS, NEVER, interval_length_sql

_SELECT = ", ".join(COLUMNS)


async def latest_candles(
    conn: asyncpg.Connection | asyncpg.Pool,
    symbols: Sequence[str],
    interval: str,
    lookback: int,
    end: datetime | None = None,
) -> dict[str, list[asyncpg.Record]]:
    """The last ``lookback`` candles (oldest first) of each symbol with ``open_time <= end``."""
    rows = await conn.fetch(
        f"""
        SELECT c.* FROM unnest($1::text[]) WITH ORDINALITY AS s(symbol, position)
        CROSS JOIN LATERAL (
            SELECT {_SELECT} FROM candles
            WHERE symbol = s.symbol AND interval = $2 AND open_time <= $4
            ORDER BY open_time DESC LIMIT $3
        ) c
        ORDER BY s.position, c.open_time
        """,  # noqa: S608
        list(symbols),
        interval,
        lookback,
        end or NEVER,
    )
    out: dict[str, list[asyncpg.Record]] = {}
    for row in rows:
        out.setdefault(row["symbol"], []).append(row)
    return out


async def candle_range(
    conn: asyncpg.Connection | asyncpg.Pool,
    symbol: str,
    interval: str,
    start: datetime,
    end: datetime,
    limit: int,
) -> tuple[list[asyncpg.Record], bool]:
    """Candles with ``start <= open_time <= end`` (oldest first): the latest ``limit`` of them,
    and whether older ones were left out."""
    rows = await conn.fetch(
        f"""
        SELECT {_SELECT} FROM candles
        WHERE symbol = $1 AND interval = $2 AND open_time >= $3 AND open_time <= $4
        ORDER BY open_time DESC LIMIT $5
        """,  # noqa: S608
        symbol,
        interval,
        start,
        end,
        limit + 1,
    )
    truncated = len(rows) > limit
    return list(reversed(rows[:limit])), truncated


async def latest_open_time(
    conn: asyncpg.Connection | asyncpg.Pool, interval: str, *, source: str | None = None
) -> datetime | None:
    if source is None:
        return await conn.fetchval("SELECT max(open_time) FROM candles WHERE interval = $1", interval)
    return await conn.fetchval(
        "SELECT max(open_time) FROM candles WHERE interval = $1 AND source = $2", interval, source
    )


@dataclass(frozen=True)
class Coverage:
    symbol: str
    interval: str
    candles: int
    first: datetime
    last: datetime
    sources: str

    @property
    def expected(self) -> int:
        return int((self.last - self.first) / INTERVALS[self.interval]) + 1

    @property
    def missing(self) -> int:
        return self.expected - self.candles


@dataclass(frozen=True)
class StoredGap:
    symbol: str
    interval: str
    after: datetime
    before: datetime

    @property
    def missing(self) -> int:
        return int((self.before - self.after) / INTERVALS[self.interval]) - 1


async def coverage(conn: asyncpg.Connection | asyncpg.Pool) -> list[Coverage]:
    rows = await conn.fetch(
        """
        SELECT symbol, interval, count(*) AS candles, min(open_time) AS first, max(open_time) AS last,
               string_agg(DISTINCT source, ',' ORDER BY source) AS sources
        FROM candles GROUP BY symbol, interval ORDER BY symbol, interval
        """
    )
    return [Coverage(**dict(row)) for row in rows]


async def gaps(conn: asyncpg.Connection | asyncpg.Pool) -> list[StoredGap]:
    rows = await conn.fetch(
        f"""
        SELECT symbol, interval, previous AS after, open_time AS before FROM (
            SELECT symbol, interval, open_time,
                   lag(open_time) OVER (PARTITION BY symbol, interval ORDER BY open_time) AS previous
            FROM candles
        ) t
        WHERE open_time - previous > {interval_length_sql()}
        ORDER BY symbol, interval, open_time
        """  # noqa: S608
    )
    return [StoredGap(**dict(row)) for row in rows]


def candle_close(row: asyncpg.Record) -> datetime:
    return row["open_time"] + INTERVALS[row["interval"]]


async def symbol_coverage(conn: asyncpg.Connection | asyncpg.Pool, symbol: str) -> list[dict[str, object]]:
    rows = await conn.fetch(
        """
        SELECT interval, count(*) AS candles, min(open_time) AS first_open_time,
               max(open_time) AS last_open_time
        FROM candles WHERE symbol = $1 GROUP BY interval ORDER BY interval
        """,
        symbol,
    )
    return [dict(row) for row in rows]
