"""Assets, the sector taxonomy, and the universe (assets ranked by market cap with quotes)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import asyncpg
import pandas as pd

from ingestion_service import taxonomy
from ingestion_service.storage.bulk import NEVER


async def sync_sectors(conn: asyncpg.Connection) -> None:
    """Write the taxonomy (idempotent; unchanged rows are not rewritten)."""
    items = taxonomy.sectors()
    await conn.execute(
        """
        INSERT INTO sectors AS s (sector, name, position)
        SELECT * FROM unnest($1::text[], $2::text[], $3::int[])
        ON CONFLICT (sector) DO UPDATE SET name = EXCLUDED.name, position = EXCLUDED.position
        WHERE (s.name, s.position) IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.position)
        """,
        [s.sector for s in items],
        [s.name for s in items],
        [s.position for s in items],
    )


def _text(value: object) -> str | None:
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return None
    text = str(value).strip()
    return text or None


def _rank(value: object) -> int | None:
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return None
    rank = int(value)  # type: ignore[call-overload]
    return rank if rank > 0 else None


async def upsert_assets(conn: asyncpg.Connection, frame: pd.DataFrame, *, source: str) -> int:
    """Insert or update assets (``symbol, name, sector, market_cap_rank`` and optionally
    ``coingecko_id, sector_tags``); returns how many rows changed. Unknown sectors are stored as
    none; known values are never replaced by unknown ones."""
    if frame.empty:
        return 0
    frame = frame.drop_duplicates("symbol", keep="last")
    symbols = [str(s).upper() for s in frame["symbol"]]
    names = [_text(v) or sym for v, sym in zip(frame["name"], symbols, strict=True)]
    sectors = [taxonomy.known(v) for v in frame.get("sector", pd.Series([None] * len(frame)))]
    ranks = [_rank(v) for v in frame.get("market_cap_rank", pd.Series([None] * len(frame)))]
    ids = [_text(v) for v in frame.get("coingecko_id", pd.Series([None] * len(frame)))]
    tags = [_text(v) or "" for v in frame.get("sector_tags", pd.Series([None] * len(frame)))]
    result = await conn.execute(
        """
        INSERT INTO assets AS a (symbol, name, sector, market_cap_rank, coingecko_id, sector_tags, source)
        SELECT s.symbol, s.name, s.sector, s.rank, s.cg, s.tags, $7
        FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::text[], $6::text[])
             AS s(symbol, name, sector, rank, cg, tags)
        ON CONFLICT (symbol) DO UPDATE SET
            name = EXCLUDED.name,
            sector = COALESCE(EXCLUDED.sector, a.sector),
            market_cap_rank = COALESCE(EXCLUDED.market_cap_rank, a.market_cap_rank),
            coingecko_id = COALESCE(EXCLUDED.coingecko_id, a.coingecko_id),
            sector_tags = COALESCE(NULLIF(EXCLUDED.sector_tags, ''), a.sector_tags),
            source = EXCLUDED.source,
            updated_at = now()
        WHERE (a.name, a.sector, a.market_cap_rank, a.coingecko_id, a.sector_tags) IS DISTINCT FROM (
            EXCLUDED.name, COALESCE(EXCLUDED.sector, a.sector),
            COALESCE(EXCLUDED.market_cap_rank, a.market_cap_rank),
            COALESCE(EXCLUDED.coingecko_id, a.coingecko_id),
            COALESCE(NULLIF(EXCLUDED.sector_tags, ''), a.sector_tags))
        """,
        symbols,
        names,
        sectors,
        ranks,
        ids,
        tags,
        source,
    )
    return int(result.split()[-1])


async def ensure_assets(conn: asyncpg.Connection, symbols: Sequence[str], *, source: str) -> None:
    """Give every candle symbol an asset row (name = symbol, no sector) if it has none."""
    await conn.execute(
        """
        INSERT INTO assets (symbol, name, source)
        SELECT s, s, $2 FROM unnest($1::text[]) AS s ON CONFLICT (symbol) DO NOTHING
        """,
        sorted(set(symbols)),
        source,
    )


async def asset(conn: asyncpg.Connection | asyncpg.Pool, symbol: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT symbol, name, sector, market_cap_rank, coingecko_id, sector_tags "
        "FROM assets WHERE symbol = $1",
        symbol,
    )


async def universe(
    conn: asyncpg.Connection | asyncpg.Pool,
    *,
    limit: int,
    sector: str | None = None,
    symbols: Sequence[str] | None = None,
    as_of: datetime | None = None,
) -> list[asyncpg.Record]:
    """Assets by market-cap rank (unranked last) with their latest daily quote closed by ``as_of``:
    ``close`` (price), ``previous_close`` (the day before, for the 24h change), ``volume``,
    ``quote_volume``, ``market_cap``, ``quote_time`` (open time of that daily candle)."""
    return await conn.fetch(
        """
        SELECT a.symbol, a.name, a.sector, a.market_cap_rank,
               q.open_time AS quote_time, q.close, q.volume, q.quote_volume, q.market_cap, q.quote,
               (SELECT p.close FROM candles p
                 WHERE p.symbol = a.symbol AND p.interval = '1d'
                   AND p.open_time = q.open_time - interval '1 day') AS previous_close
        FROM assets a
        LEFT JOIN LATERAL (
            SELECT c.open_time, c.close, c.volume, c.quote_volume, c.market_cap, c.quote FROM candles c
            WHERE c.symbol = a.symbol AND c.interval = '1d'
              AND c.open_time <= $1::timestamptz - interval '1 day'
            ORDER BY c.open_time DESC LIMIT 1
        ) q ON true
        WHERE ($2::text IS NULL OR a.sector = $2) AND ($3::text[] IS NULL OR a.symbol = ANY($3::text[]))
        ORDER BY a.market_cap_rank NULLS LAST, a.symbol
        LIMIT $4
        """,
        as_of or NEVER,
        sector,
        list(symbols) if symbols is not None else None,
        limit,
    )


async def sectors_with_assets(conn: asyncpg.Connection | asyncpg.Pool) -> list[asyncpg.Record]:
    """Every sector with its assets' symbols (by rank) and count."""
    return await conn.fetch(
        """
        SELECT s.sector, s.name, count(a.symbol) AS asset_count,
               coalesce(array_agg(a.symbol ORDER BY a.market_cap_rank NULLS LAST, a.symbol)
                        FILTER (WHERE a.symbol IS NOT NULL), '{}') AS symbols
        FROM sectors s LEFT JOIN assets a ON a.sector = s.sector
        GROUP BY s.sector, s.name, s.position ORDER BY s.position
        """
    )
