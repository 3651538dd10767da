"""``/api/v1/market``: indicators, batch quotes and movers, computed from the stored candles.

Answers are cached in Redis (indicators 30 s, movers 300 s: the seeds' TTLs); batch quotes are
limited to 20 calls a minute per caller.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated, Any

import asyncpg
from fastapi import APIRouter, Depends, Query, Request

from cp_common.cache import JsonCache, RateLimiter
from cp_common.errors import NotFound, RateLimited
from cp_common.http import Envelope, ok
from cp_common.http.openapi import error_responses
from cp_common.security import Principal
from ingestion_service import indicators
from ingestion_service.api import params, views
from ingestion_service.api.analytics_schemas import IndicatorsOut, MoversOut, QuotesIn, QuotesOut
from ingestion_service.api.deps import pool, reader
from ingestion_service.api.schemas import AssetOut
from ingestion_service.storage import assets as asset_store
from ingestion_service.storage import candles as candle_store

router = APIRouter(prefix="/api/v1/market", tags=["market"])

INDICATOR_TTL_S = 30.0
MOVERS_TTL_S = 300.0
QUOTES_PER_MINUTE = 20
#: Candles the indicators are computed from: enough for the recursive smoothers to forget
#: where the history starts (at period 200, the weight of the first candle is below 1e-20).
INDICATOR_HISTORY = 5000
#: Every stored asset is a candidate mover.
MOVER_UNIVERSE = 100_000
_EVER = (datetime(1970, 1, 1, tzinfo=UTC), datetime(9999, 12, 31, tzinfo=UTC))

Reader = Depends(reader)
Pool = Depends(pool)

Period = Annotated[int, Query(ge=5, le=200, description="indicator window in candles")]
MoverLimit = Annotated[int, Query(ge=5, le=100, description="assets per list")]


def _cache(request: Request, name: str) -> JsonCache | None:
    client = request.app.state.runtime.redis
    return None if client is None else JsonCache(client, f"ingestion:{name}")


def _caller(request: Request, principal: Principal | None) -> str:
    """The user, or (reads public) the client address the gateway saw."""
    if principal is not None:
        return f"user:{principal.user_id}"
    address = request.headers.get("x-real-ip") or (request.client.host if request.client else "unknown")
    return f"ip:{address}"


async def quota(request: Request, principal: Principal | None = Reader) -> Principal | None:
    """The caller, counted against :data:`QUOTES_PER_MINUTE` batch-quote calls."""
    limiter = RateLimiter(
        request.app.state.runtime.require_redis(),
        "ingestion:quotes",
        limit=QUOTES_PER_MINUTE,
        window_seconds=60,
    )
    allowed, retry_after = await limiter.hit(_caller(request, principal))
    if not allowed:
        raise RateLimited(f"rate limit of {QUOTES_PER_MINUTE} per minute exceeded; retry in {retry_after} s")
    return principal


async def _indicators(db: asyncpg.Pool, symbol: str, interval: str, period: int) -> dict[str, Any]:
    if await asset_store.asset(db, symbol) is None:
        raise NotFound(f"Symbol {symbol} not found")
    rows, _ = await candle_store.candle_range(db, symbol, interval, *_EVER, INDICATOR_HISTORY)
    if not rows:
        raise NotFound(f"no {interval} candles stored for {symbol}")
    values = await asyncio.to_thread(
        indicators.compute, rows, symbol=symbol, interval=interval, period=period
    )
    return values.model_dump(mode="json")


@router.get("/indicators/{symbol}", response_model=Envelope[IndicatorsOut])
async def get_indicators(
    symbol: params.Symbol,
    request: Request,
    _: Principal | None = Reader,
    interval: params.IntervalQuery = "1d",
    period: Period = 14,
    db: asyncpg.Pool = Pool,
) -> object:
    """RSI, MACD, Bollinger bands, SMA/EMA, stochastic, Williams %R and CCI at the latest closed
    candle, computed by the models' indicator code (cached 30 s)."""
    known = symbol.upper()
    cache = _cache(request, "indicators")

    async def compute() -> dict[str, Any]:
        return await _indicators(db, known, interval, period)

    key = f"{known}:{interval}:{period}"
    body = await compute() if cache is None else await cache.get_or_set(key, INDICATOR_TTL_S, compute)
    return ok(IndicatorsOut.model_validate(body))


@router.post("/quotes", response_model=Envelope[QuotesOut], responses=error_responses(429))
async def batch_quotes(
    body: QuotesIn, _: Principal | None = Depends(quota), db: asyncpg.Pool = Pool
) -> object:
    """The latest daily quote of 1 to 100 symbols (20 calls a minute per caller); symbols with no
    stored asset are listed in ``unknown``."""
    wanted = list(dict.fromkeys(s.upper() for s in body.symbols))
    rows = await asset_store.universe(db, limit=len(wanted), symbols=wanted)
    found = {r["symbol"]: views.asset(r) for r in rows}
    quotes = [found[s] for s in wanted if s in found]
    unknown = [s for s in wanted if s not in found]
    return ok(QuotesOut(count=len(quotes), quotes=quotes, unknown=unknown))


def _movers(assets: list[AssetOut], limit: int) -> MoversOut:
    changed = [a for a in assets if a.quote.change_24h_pct is not None]
    by_change = sorted(changed, key=lambda a: a.quote.change_24h_pct or 0.0)
    active = sorted(
        (a for a in assets if a.quote.volume_24h is not None), key=lambda a: -(a.quote.volume_24h or 0.0)
    )
    stamps = [a.quote.as_of for a in assets if a.quote.as_of is not None]
    return MoversOut(
        as_of=max(stamps, default=None),
        limit=limit,
        gainers=[a for a in reversed(by_change) if (a.quote.change_24h_pct or 0.0) > 0][:limit],
        losers=[a for a in by_change if (a.quote.change_24h_pct or 0.0) < 0][:limit],
        most_active=active[:limit],
    )


@router.get("/movers", response_model=Envelope[MoversOut])
async def movers(
    request: Request, _: Principal | None = Reader, limit: MoverLimit = 10, db: asyncpg.Pool = Pool
) -> object:
    """Gainers, losers and the most traded assets over 24 h (the latest daily candle against the
    day before), ``limit`` each (cached 300 s)."""
    cache = _cache(request, "movers")

    async def compute() -> dict[str, Any]:
        rows = await asset_store.universe(db, limit=MOVER_UNIVERSE)
        return _movers([views.asset(r) for r in rows], limit).model_dump(mode="json")

    body = await compute() if cache is None else await cache.get_or_set(str(limit), MOVERS_TTL_S, compute)
    return ok(MoversOut.model_validate(body))
