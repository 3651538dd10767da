"""The market read model's tables: upserts from the bootstrap and the events, loads for the view."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
import pandas as pd

from cp_models.data import MarketData

CandleRow = tuple[str, datetime, float, float, float, float, float, float]


def change_channel(schema: str) -> str:
    """The NOTIFY channel every replica of the layer listens on."""
    return f"market_changed_{schema}"


def snapshot_day(taken_at: datetime) -> date:
    """The UTC day a snapshot describes: the UTC date it is stamped with, as ``cp_models``'
    ``MarketData`` aligns the market series the models were trained on (the files and replay
    feeds stamp a day's figures with its date, a live snapshot with when it was taken)."""
    return taken_at.astimezone(UTC).date()


@dataclass(frozen=True)
class SnapshotRow:
    day: date
    taken_at: datetime
    total_market_cap: float
    btc_dominance: float
    eth_dominance: float
    alt_dominance: float
    stablecoin_dominance: float
    fear_greed: float
    market_cap_change_24h: float


@dataclass(frozen=True)
class AssetRow:
    symbol: str
    sector: str
    name: str
    market_cap_rank: int | None
    market_cap_usd: float | None


def _finite(value: float) -> float:
    return value if math.isfinite(value) else float("nan")


class MarketStore:
    """The read model of one layer schema (the pool's search path starts with it)."""

    def __init__(self, pool: asyncpg.Pool, schema: str) -> None:
        self.pool = pool
        self.channel = change_channel(schema)

    async def upsert_assets(self, conn: asyncpg.Connection, rows: Sequence[AssetRow]) -> None:
        await conn.executemany(
            """
            INSERT INTO market_assets (symbol, sector, name, market_cap_rank, market_cap_usd, updated_at)
            VALUES ($1, $2, $3, $4, $5, now())
            ON CONFLICT (symbol) DO UPDATE SET sector = excluded.sector, name = excluded.name,
                market_cap_rank = excluded.market_cap_rank, market_cap_usd = excluded.market_cap_usd,
                updated_at = now()
            """,
            [(r.symbol, r.sector or "other", r.name, r.market_cap_rank, r.market_cap_usd) for r in rows],
        )

    async def upsert_candles(self, conn: asyncpg.Connection, rows: Sequence[CandleRow]) -> None:
        await conn.executemany(
            """
            INSERT INTO market_candles_1d (symbol, open_time, open, high, low, close, volume, quote_volume)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
            ON CONFLICT (symbol, open_time) DO UPDATE SET open = excluded.open, high = excluded.high,
                low = excluded.low, close = excluded.close, volume = excluded.volume,
                quote_volume = excluded.quote_volume
            """,
            rows,
        )
        # A candle of an asset the universe has not listed yet: known from now on, sector later.
        await conn.executemany(
            "INSERT INTO market_assets (symbol, sector) VALUES ($1, 'other') ON CONFLICT DO NOTHING",
            sorted({(r[0],) for r in rows}),
        )

    async def upsert_snapshot(self, conn: asyncpg.Connection, row: SnapshotRow) -> None:
        """Keep the newest snapshot of each day."""
        await conn.execute(
            """
            INSERT INTO market_snapshots_1d (day, taken_at, total_market_cap, btc_dominance, eth_dominance,
                alt_dominance, stablecoin_dominance, fear_greed, market_cap_change_24h)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
            ON CONFLICT (day) DO UPDATE SET taken_at = excluded.taken_at,
                total_market_cap = excluded.total_market_cap, btc_dominance = excluded.btc_dominance,
                eth_dominance = excluded.eth_dominance, alt_dominance = excluded.alt_dominance,
                stablecoin_dominance = excluded.stablecoin_dominance, fear_greed = excluded.fear_greed,
                market_cap_change_24h = excluded.market_cap_change_24h
            WHERE market_snapshots_1d.taken_at <= excluded.taken_at
            """,
            row.day,
            row.taken_at,
            *(
                _finite(v)
                for v in (
                    row.total_market_cap,
                    row.btc_dominance,
                    row.eth_dominance,
                    row.alt_dominance,
                    row.stablecoin_dominance,
                    row.fear_greed,
                    row.market_cap_change_24h,
                )
            ),
        )

    async def notify(self, conn: asyncpg.Connection) -> None:
        """Tell every replica the market changed (delivered when the transaction commits)."""
        await conn.execute("SELECT pg_notify($1, '')", self.channel)

    async def signature(self) -> tuple[Any, ...]:
        """Changes whenever the stored market does (the view's poll fallback)."""
        row = await self.pool.fetchrow(
            """
            SELECT (SELECT count(*) FROM market_candles_1d), (SELECT max(open_time) FROM market_candles_1d),
                   (SELECT max(taken_at) FROM market_snapshots_1d),
                   (SELECT max(updated_at) FROM market_assets)
            """
        )
        return tuple(row) if row else ()

    async def load(self, history_days: int) -> MarketData | None:
        """The stored market as ``MarketData`` (the last ``history_days`` days), or None if empty."""
        async with self.pool.acquire() as conn:
            last = await conn.fetchval("SELECT max(open_time) FROM market_candles_1d")
            if last is None:
                return None
            start = last - timedelta(days=history_days - 1)
            candles = await conn.fetch(
                "SELECT symbol, open_time, open, high, low, close, volume, quote_volume "
                "FROM market_candles_1d WHERE open_time >= $1",
                start,
            )
            snapshots = await conn.fetch(
                "SELECT day, total_market_cap, btc_dominance, stablecoin_dominance, fear_greed "
                "FROM market_snapshots_1d WHERE day >= $1",
                start.date(),
            )
            assets = await conn.fetch("SELECT symbol, sector FROM market_assets")
        return _market_data(candles, snapshots, assets)

    async def latest_snapshot(self) -> dict[str, Any] | None:
        row = await self.pool.fetchrow("SELECT * FROM market_snapshots_1d ORDER BY day DESC LIMIT 1")
        return dict(row) if row else None

    async def assets(self) -> list[dict[str, Any]]:
        rows = await self.pool.fetch(
            "SELECT * FROM market_assets ORDER BY market_cap_rank NULLS LAST, symbol"
        )
        return [dict(r) for r in rows]


def _market_data(
    candles: Sequence[asyncpg.Record], snapshots: Sequence[asyncpg.Record], assets: Sequence[asyncpg.Record]
) -> MarketData:
    columns = ["symbol", "open_time", "open", "high", "low", "close", "volume", "quote_volume"]
    candle_frame = pd.DataFrame([tuple(r) for r in candles], columns=columns)
    market = pd.DataFrame(
        [tuple(r)[1:] for r in snapshots],
        index=pd.DatetimeIndex([pd.Timestamp(r["day"], tz="UTC") for r in snapshots]),
        columns=["total_market_cap", "btc_dominance", "stablecoin_dominance", "fear_greed"],
        dtype="float64",
    )
    asset_frame = pd.DataFrame([tuple(r) for r in assets], columns=["symbol", "sector"])
    return MarketData.from_frames(candle_frame, market, asset_frame)
