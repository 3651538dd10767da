"""``/api/v1/market``: assets, candles, overview, snapshots and sectors (read-only)."""

from __future__ import annotations

import asyncpg
from fastapi import APIRouter, Depends, Request

from cp_common.errors import NotFound, Unavailable
from cp_common.http import Envelope, ok
from cp_common.http.hot_reads import hot_read
from cp_common.http.read_cache import PreserialisedCache
from cp_common.security import Principal
from ingestion_service.api import params, views
from ingestion_service.api.deps import pool, reader
from ingestion_service.api.schemas import (
    AssetDetailOut,
    AssetsOut,
    CandlesOut,
    CoverageOut,
    FearGreedOut,
    OverviewOut,
    SectorOut,
    SectorsOut,
    SnapshotsOut,
)
from ingestion_service.events import change_pct
from ingestion_service.read_cache import candle_cache
from ingestion_service.storage import assets as asset_store
from ingestion_service.storage import candles as candle_store
from ingestion_service.storage import snapshots as snapshot_store

router = APIRouter(prefix="/api/v1/market", tags=["market"])

# The caller is checked first (no query for an unauthenticated request).
Reader = Depends(reader)
Pool = Depends(pool)


async def _known_symbol(db: asyncpg.Pool, raw: str) -> str:
    symbol = raw.upper()
    if await asset_store.asset(db, symbol) is None:
        raise NotFound(f"Symbol {symbol} not found")
    return symbol


@router.get("/assets", response_model=Envelope[AssetsOut])
async def list_assets(
    _: Principal | None = Reader,
    sector: params.Sector = None,
    limit: params.AssetLimit = 100,
    db: asyncpg.Pool = Pool,
) -> object:
    """Assets by market-cap rank with their latest daily quote; ``sector`` filters."""
    rows = await asset_store.universe(db, limit=limit, sector=sector)
    return ok(AssetsOut(count=len(rows), assets=[views.asset(r) for r in rows]))


@router.get("/assets/{symbol}", response_model=Envelope[AssetDetailOut])
async def get_asset(symbol: params.Symbol, _: Principal | None = Reader, db: asyncpg.Pool = Pool) -> object:
    """One asset, its latest quote and the candles stored per interval."""
    known = await _known_symbol(db, symbol)
    (row,) = await asset_store.universe(db, limit=1, symbols=[known])
    coverage = await candle_store.symbol_coverage(db, known)
    stored = [CoverageOut.model_validate(c) for c in coverage]
    return ok(AssetDetailOut(**views.asset(row).model_dump(), coverage=stored))


@router.get("/candles/{symbol}", response_model=Envelope[CandlesOut])
async def get_candles(
    request: Request,
    symbol: params.Symbol,
    _: Principal | None = Reader,
    interval: params.IntervalQuery = "1d",
    start: params.Start = None,
    end: params.End = None,
    limit: params.CandleLimit = 500,
    db: asyncpg.Pool = Pool,
    cache: PreserialisedCache = Depends(candle_cache),
) -> object:
    """Closed candles of one symbol, oldest first: those with ``start <= open_time <= end``
    (at most 365 days apart), the latest ``limit`` of them (kept pre-serialised: read_cache)."""
    first, last = params.time_range(start, end)

    async def build() -> bytes:
        known = await _known_symbol(db, symbol)
        rows, truncated = await candle_store.candle_range(db, known, interval, first, last, limit)
        candles = [views.candle(r) for r in rows]
        data = CandlesOut(
            symbol=known, interval=interval, count=len(candles), truncated=truncated, candles=candles
        )
        return data.model_dump_json().encode()

    return await hot_read(request, cache, build)


@router.get("/overview", response_model=Envelope[OverviewOut])
async def overview(_: Principal | None = Reader, db: asyncpg.Pool = Pool) -> object:
    """The latest market snapshot (total market cap and its 24h change, dominance, Fear & Greed)
    and the ten largest assets."""
    row = await snapshot_store.latest_snapshot(db)
    if row is None:
        raise Unavailable("no market snapshot has been stored yet")
    before = await snapshot_store.market_cap_before(db, row["taken_at"])
    top = await asset_store.universe(db, limit=10)
    change = views.finite(change_pct(row["total_market_cap"], before))
    return ok(
        OverviewOut(
            as_of=row["taken_at"],
            total_market_cap=row["total_market_cap"],
            market_cap_change_24h_pct=change,
            total_volume_24h=row["total_volume_24h"],
            btc_dominance=row["btc_dominance"],
            eth_dominance=row["eth_dominance"],
            stablecoin_dominance=row["stablecoin_dominance"],
            fear_greed=FearGreedOut(value=row["fear_greed"], label=row["fear_greed_label"]),
            top_assets=[views.asset(r) for r in top],
            source=row["source"],
        )
    )


@router.get("/snapshots", response_model=Envelope[SnapshotsOut])
async def list_snapshots(
    _: Principal | None = Reader,
    start: params.Start = None,
    end: params.End = None,
    limit: params.SnapshotLimit = 366,
    db: asyncpg.Pool = Pool,
) -> object:
    """Market snapshots with ``start <= taken_at <= end`` (at most 365 days; default: the 30
    days up to the latest snapshot), oldest first."""
    first, last = await params.snapshot_range(db, start, end)
    rows = await snapshot_store.snapshots_between(db, first, last, limit)
    return ok(SnapshotsOut(count=len(rows), snapshots=[views.snapshot(r) for r in rows]))


@router.get("/sectors", response_model=Envelope[SectorsOut])
async def sectors(_: Principal | None = Reader, db: asyncpg.Pool = Pool) -> object:
    """The sector taxonomy with the assets of each sector (by market-cap rank)."""
    rows = await asset_store.sectors_with_assets(db)
    return ok(SectorsOut(sectors=[SectorOut(**dict(r)) for r in rows]))
