"""The ingestion service as a :class:`ServiceSpec`: schema, migrations, routes, gRPC, the feed.

Start-up (after the shared runtime has migrated the schema and opened PostgreSQL, Redis and
Kafka with its outbox relay): build the pipeline and the feed chosen by ``INGESTION_SOURCE``,
write the sector taxonomy, and start the feed runner as a task the runtime watches (``/readyz``
fails once it dies; it is cancelled at shutdown). With the synthetic
feed (the fleet's default) start-up waits for the first backfill, so that when the service
reports ready the fleet already has a market history to read; other feeds backfill in the
background (a large directory or a live provider may take minutes).
"""

from __future__ import annotations

import asyncio
import logging

from fastapi import FastAPI

from cp_common import topics
from cp_common.grpc import GrpcServer
from cp_common.service import Runtime, ServiceSpec, build_app
from ingestion_service import MIGRATIONS_DIR, SCHEMA, grpc_api
from ingestion_service.api import analytics, market
from ingestion_service.read_cache import EXTRAS_KEY as CANDLE_CACHE_KEY
from ingestion_service.read_cache import CandleReadCache
from ingestion_service.runner import FeedRunner
from ingestion_service.settings import IngestionSettings
from ingestion_service.sources import create_feed, create_pipeline
from ingestion_service.storage import assets as asset_store

log = logging.getLogger(__name__)

RUNNER_KEY = "ingestion.runner"
#: Feeds whose first backfill start-up waits for.
BLOCKING_BACKFILL = {"synthetic"}


def _settings(runtime: Runtime) -> IngestionSettings:
    if not isinstance(runtime.settings, IngestionSettings):
        raise TypeError("the ingestion service needs IngestionSettings")
    return runtime.settings


def runner_of(runtime: Runtime) -> FeedRunner:
    return runtime.extras[RUNNER_KEY]


async def _start(runtime: Runtime) -> None:
    settings = _settings(runtime)
    pool = runtime.require_pool()
    async with pool.acquire() as conn, conn.transaction():
        await asset_store.sync_sectors(conn)
    cache = CandleReadCache()
    runtime.extras[CANDLE_CACHE_KEY] = cache
    pipeline = create_pipeline(settings, pool)
    pipeline.on_candles_stored.append(cache.invalidate)
    runner = FeedRunner(
        pipeline,
        create_feed(settings, pool),
        redis=runtime.redis,
        lock_ttl=settings.ingestion_live_lock_ttl_s,
    )
    runtime.extras[RUNNER_KEY] = runner
    task = runtime.watch(asyncio.create_task(runner.run(), name="ingestion-feed"))
    if settings.ingestion_source in BLOCKING_BACKFILL:
        waits = {asyncio.create_task(runner.backfilled.wait()), asyncio.create_task(runner.failed.wait())}
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        for wait in waits:
            wait.cancel()
        if not runner.backfilled.is_set():
            task.cancel()
            raise RuntimeError(f"the first backfill failed: {runner.last_error!r}")


def _grpc(runtime: Runtime, server: GrpcServer) -> None:
    grpc_api.register(runtime.require_pool(), server)


SPEC = ServiceSpec(
    name="ingestion",
    title="CryptoPredict market data ingestion",
    schema=SCHEMA,
    migrations_dir=MIGRATIONS_DIR,
    uses_kafka=True,
    produces=[topics.MARKET_CANDLES.name, topics.MARKET_SNAPSHOTS.name],
    routers=[market.router, analytics.router],
    grpc_services=_grpc,
    on_startup=_start,
)


def create_app(settings: IngestionSettings) -> FastAPI:
    return build_app(SPEC, settings)
