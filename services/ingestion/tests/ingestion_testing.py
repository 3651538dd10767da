"""Helpers shared by the ingestion tests."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import asyncpg
import pandas as pd

from cp_market.candles import Candle


async def eventually(probe: Callable[[], Awaitable[bool]], timeout: float = 20.0, what: str = "") -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await probe():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what or probe}")
        await asyncio.sleep(0.05)


def candle(
    symbol: str = "BTC",
    interval: str = "1h",
    open_time: datetime | str = "2024-01-01T00:00Z",
    close: float = 100.0,
    **changes: object,
) -> Candle:
    opened = pd.Timestamp(open_time).to_pydatetime().astimezone(UTC)
    values: dict[str, object] = {
        "symbol": symbol,
        "interval": interval,
        "open_time": opened,
        "open": close * 0.99,
        "high": close * 1.02,
        "low": close * 0.97,
        "close": close,
        "volume": 10.0,
        "quote_volume": 10.0 * close,
        "source": "binance",
        "quote": "USDT",
    }
    values.update(changes)
    return Candle(**values)  # type: ignore[arg-type]


async def table_checksum(conn: asyncpg.Connection | asyncpg.Pool, table: str, order: str) -> tuple[int, str]:
    """(row count, md5 of every row's data columns in key order) of an ingestion table."""
    columns = {
        "candles": "symbol, interval, open_time, open, high, low, close, volume, quote_volume, market_cap, "
        "quote, source, quality_flags, ingested_at, updated_at",
        "market_snapshots": "taken_at, total_market_cap, total_volume_24h, btc_dominance, eth_dominance, "
        "stablecoin_dominance, usdt_market_cap, fear_greed, fear_greed_label, stale_market_cap, source, "
        "ingested_at, updated_at",
        "assets": "symbol, name, sector, market_cap_rank, coingecko_id, sector_tags, source, updated_at",
    }[table]
    row = await conn.fetchrow(
        f"SELECT count(*) AS n, md5(string_agg(({columns})::text, '|' ORDER BY {order})) AS digest FROM {table}"
    )
    return int(row["n"]), str(row["digest"])


async def outbox_count(conn: asyncpg.Connection | asyncpg.Pool, topic: str | None = None) -> int:
    if topic is None:
        return int(await conn.fetchval("SELECT count(*) FROM outbox"))
    return int(await conn.fetchval("SELECT count(*) FROM outbox WHERE topic = $1", topic))
