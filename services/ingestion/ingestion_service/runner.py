"""Run a feed through the pipeline for the life of the service: backfill, then stream.

* A batch the store cannot take (database restarting...) is retried with backoff until it is
  written, so a hiccup never loses data; the feed waits meanwhile (back-pressure).
* A feed that fails (a provider down, a dropped connection the adapter gave up on) is counted
  in ``ingestion_feed_errors_total`` and restarted after a pause, backfill first: the backfill
  is idempotent and fills what was missed.
* A singleton feed (live polling) runs only while this replica holds a Redis lock; another
  replica takes over within the lock's TTL if this one dies. ``ingestion_live_poller_leader``
  says who holds it.
* ``backfilled`` is set once the first backfill is stored (readiness of a fresh service).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime

import asyncpg
import redis.asyncio as aioredis

from cp_common.cache import SingletonLock
from ingestion_service.feeds.base import Feed, MarketBatch
from ingestion_service.metrics import FEED_ERRORS, LIVE_LEADER
from ingestion_service.pipeline import IngestionPipeline, IngestResult
from ingestion_service.storage import runs

log = logging.getLogger(__name__)

LOCK_NAME = "ingestion-live-feed"


class FeedRunner:
    def __init__(
        self,
        pipeline: IngestionPipeline,
        feed: Feed,
        *,
        redis: aioredis.Redis | None = None,
        lock_ttl: float = 30.0,
        lock_name: str = LOCK_NAME,
        retry_delay: float = 5.0,
        max_retry_delay: float = 60.0,
    ) -> None:
        if feed.singleton and redis is None:
            raise ValueError(f"feed {feed.name} runs on one replica only and needs Redis for its lock")
        self.pipeline = pipeline
        self.feed = feed
        self.redis = redis
        self.lock_ttl = lock_ttl
        self.lock_name = lock_name
        self.retry_delay = retry_delay
        self.max_retry_delay = max_retry_delay
        self.backfilled = asyncio.Event()
        #: Set when the feed fails (it is restarted after a pause).
        self.failed = asyncio.Event()
        self.last_error: BaseException | None = None
        self.last_backfill: IngestResult | None = None

    async def run(self) -> None:
        try:
            if self.feed.singleton:
                await self._run_as_leader()
            else:
                await self._run_feed()
        finally:
            await self.feed.aclose()

    async def _run_as_leader(self) -> None:
        assert self.redis is not None
        while True:
            lock = SingletonLock(self.redis, self.lock_name, ttl=self.lock_ttl)
            if not await lock.acquire():
                LIVE_LEADER.set(0)
                await asyncio.sleep(self.lock_ttl / 3)
                continue
            LIVE_LEADER.set(1)
            log.info("live feed lock acquired")
            async with lock.held():
                work = asyncio.create_task(self._run_feed())
                lost = asyncio.create_task(lock.lost.wait())
                try:
                    await asyncio.wait({work, lost}, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    for task in (work, lost):
                        task.cancel()
                        with contextlib.suppress(asyncio.CancelledError):
                            await task
            LIVE_LEADER.set(0)
            if work.done() and not work.cancelled() and work.exception() is None:
                return  # the feed ended on its own

    async def _run_feed(self) -> None:
        failures = 0
        while True:
            try:
                await self._backfill()
                async for batch in self.feed.stream():
                    await self._store(batch)
                    failures = 0
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                failures += 1
                self.last_error = exc
                self.failed.set()
                FEED_ERRORS.labels(self.feed.name).inc()
                delay = min(self.max_retry_delay, self.retry_delay * 2 ** (failures - 1))
                log.warning(
                    "feed failed; restarting", extra={"feed": self.feed.name, "delay_s": delay}, exc_info=True
                )
                await asyncio.sleep(delay)

    async def _backfill(self) -> None:
        started = datetime.now(UTC)
        total = IngestResult()
        async for batch in self.feed.backfill():
            total.merge(await self._store(batch))
        await runs.record_run(self.pipeline.pool, self.feed.name, started, total.summary())
        self.last_backfill = total
        self.backfilled.set()
        stored = total.summary()["candles_stored"]
        log.info("backfill stored", extra={"feed": self.feed.name, "candles": stored})

    async def _store(self, batch: MarketBatch) -> IngestResult:
        attempt = 0
        while True:
            try:
                return await self.pipeline.ingest(batch)
            except (OSError, asyncpg.PostgresConnectionError, asyncpg.InterfaceError) as exc:
                attempt += 1
                delay = min(self.max_retry_delay, self.retry_delay * 2 ** (attempt - 1))
                log.warning(
                    "storing a batch failed; retrying",
                    extra={"error": str(exc), "delay_s": delay, "attempt": attempt},
                )
                await asyncio.sleep(delay)
