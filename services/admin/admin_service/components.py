"""The service's long-lived parts, built once at start-up and shared by routes, gRPC and handlers."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg
import redis.asyncio as aioredis

from admin_service.health import SystemHealth
from admin_service.market import MarketData
from admin_service.performance import SignalPerformance
from admin_service.settings import AdminSettings
from cp_common.cache import JsonCache


@dataclass
class AdminComponents:
    settings: AdminSettings
    pool: asyncpg.Pool
    redis: aioredis.Redis
    market: MarketData
    #: Watchlist details with prices and scores (seed cache ``watchlist_performance``).
    watchlist_cache: JsonCache
    health: SystemHealth
    #: Layer 4's fleet-wide live record (the dashboard's ``performance_metrics``).
    performance: SignalPerformance


def build_components(settings: AdminSettings, pool: asyncpg.Pool, redis: aioredis.Redis) -> AdminComponents:
    market = MarketData(settings.admin_market_data_target, timeout=settings.admin_market_data_timeout_s)
    return AdminComponents(
        settings=settings,
        pool=pool,
        redis=redis,
        market=market,
        watchlist_cache=JsonCache(redis, "admin:watchlist-detail"),
        health=SystemHealth(settings, pool),
        performance=SignalPerformance(settings.admin_timing_target, timeout=settings.admin_timing_timeout_s),
    )
