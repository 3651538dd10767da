"""Ingestion benchmark: bulk candle import into PostgreSQL, and the live path's latency to Kafka.

* **Bulk import**: simulated 1h candles written through the service's store. The COPY path
  (binary COPY into a staging table, then one ``INSERT ... ON CONFLICT``) against the baseline
  measured in the same run, one ``INSERT ... ON CONFLICT`` per row with ``executemany``; both
  into an empty table, timed from the candle frame to the commit. Also the re-run of the same
  import (every row unchanged, nothing rewritten).
* **Live path**: single closed candles of a synthetic stream go through the whole pipeline
  (validation, upsert, outbox insert in one transaction), the service's outbox relay (woken by
  NOTIFY), Kafka, to a consumer. Latency = consumer receive time - the moment the candle was
  handed to the pipeline; p50 / p99 over the run, next to the pipeline's own share.

PostgreSQL and Kafka are the embedded ones (started here, in a temporary state dir) unless
``DATABASE_URL`` / ``KAFKA_BOOTSTRAP_SERVERS`` are set.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pandas as pd
import psycopg
from aiokafka import AIOKafkaConsumer
from psycopg import sql

from cp_common import topics
from cp_common.db.migrations import upgrade
from cp_common.db.pool import close_pool, create_pool
from cp_common.kafka import EventProducer, OutboxRelay, ensure_topics
from cp_fleet.embedded import EmbeddedInfra
from cp_market.simulator import MarketSimulator
from ingestion_service import MIGRATIONS_DIR, SCHEMA
from ingestion_service.feeds.base import MarketBatch
from ingestion_service.pipeline import IngestionPipeline, IngestResult
from ingestion_service.storage.bulk import CandleRows, upsert_candles_executemany

BULK_HOURS = 24 * 200  # x 42 assets = 201,600 candles
BASELINE_ROWS = 20_000
LIVE_CANDLES = 300
LIVE_SPACING_S = 0.02


def _percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def _fresh_database(url: str) -> str:
    name = f"bench_ingestion_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    upgrade(urlunsplit(urlsplit(url)._replace(path=f"/{name}")), SCHEMA, MIGRATIONS_DIR)
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


async def _store(pipeline: IngestionPipeline, frame: pd.DataFrame) -> float:
    """Frame -> rows -> COPY + upsert (the service's store stage), timed to the last commit."""
    started = time.perf_counter()
    rows = CandleRows.from_frame(frame)
    await pipeline.store_candles(rows, publish_after=None, source="bench", result=IngestResult())
    return time.perf_counter() - started


async def _executemany(pool: asyncpg.Pool, frame: pd.DataFrame) -> float:
    started = time.perf_counter()
    rows = CandleRows.from_frame(frame)
    async with pool.acquire() as conn, conn.transaction():
        await upsert_candles_executemany(conn, rows)
    return time.perf_counter() - started


async def bench_bulk(url: str) -> dict[str, object]:
    frame = MarketSimulator(seed=7).simulate("1h", periods=BULK_HOURS, start="2023-01-01").candles
    pool = await create_pool(url, SCHEMA, min_size=1, max_size=4, register_metrics=False)
    try:
        pipeline = IngestionPipeline(pool)
        copy_seconds = await _store(pipeline, frame)
        rerun_seconds = await _store(pipeline, frame)
        await pool.execute("TRUNCATE candles")
        serial_seconds = await _store(IngestionPipeline(pool, writers=1), frame)
        await pool.execute("TRUNCATE candles")
        started = time.perf_counter()
        await pipeline.ingest(MarketBatch(source="bench", as_of=datetime.now(UTC), candles=frame))
        with_validation_seconds = time.perf_counter() - started
        await pool.execute("TRUNCATE candles")
        sample = frame.iloc[:BASELINE_ROWS]
        baseline_seconds = await _executemany(pool, sample)
    finally:
        await close_pool(pool)
    copy_rate = len(frame) / copy_seconds
    baseline_rate = len(sample) / baseline_seconds
    return {
        "candles": len(frame),
        "copy_candles_per_s": round(copy_rate),
        "copy_seconds": round(copy_seconds, 2),
        "copy_one_writer_candles_per_s": round(len(frame) / serial_seconds),
        "rerun_unchanged_candles_per_s": round(len(frame) / rerun_seconds),
        "validate_and_copy_candles_per_s": round(len(frame) / with_validation_seconds),
        "executemany_baseline_candles": len(sample),
        "executemany_candles_per_s": round(baseline_rate),
        "copy_vs_executemany_ratio": round(copy_rate / baseline_rate, 1),
        "target_candles_per_s": 50_000,
        "meets_target": copy_rate >= 50_000,
    }


async def bench_live(url: str, bootstrap: str) -> dict[str, object]:
    topic = topics.MARKET_CANDLES.name
    await ensure_topics(bootstrap, [topic])
    pool = await create_pool(url, SCHEMA, min_size=2, max_size=4, register_metrics=False)
    producer = EventProducer(bootstrap, client_id="bench-ingestion")
    await producer.start()
    relay = OutboxRelay(pool, producer, schema=SCHEMA)
    relay.start()
    # a short fetch wait, as a latency-sensitive consumer would set (aiokafka's default is 500 ms)
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=f"bench-{uuid.uuid4().hex[:8]}",
        auto_offset_reset="latest",
        fetch_max_wait_ms=20,
    )
    await consumer.start()
    handed: dict[tuple[str, int], float] = {}
    pipeline_seconds: list[float] = []
    latencies: list[float] = []
    try:
        while not consumer.assignment():  # the broker's first group join takes a few seconds
            await consumer.getmany(timeout_ms=200)
        await asyncio.sleep(1.0)
        pipeline = IngestionPipeline(pool)
        run = MarketSimulator(seed=3).run("1h", start="2024-01-01")
        candles = [c for _ in range(LIVE_CANDLES // 42 + 1) for c in run.step().candles][:LIVE_CANDLES]

        async def feed() -> None:
            for candle in candles:
                key = (candle.symbol, int(candle.open_time.timestamp()))
                handed[key] = time.perf_counter()
                batch = MarketBatch(
                    source="bench",
                    as_of=candle.close_time,
                    candles=[candle],
                    live=True,
                    received_at=handed[key],
                )
                await pipeline.ingest(batch)
                pipeline_seconds.append(time.perf_counter() - handed[key])
                await asyncio.sleep(LIVE_SPACING_S)

        async def receive() -> None:
            while len(latencies) < len(candles):
                for records in (await consumer.getmany(timeout_ms=200)).values():
                    now = time.perf_counter()
                    for record in records:
                        event = topics.decode(topic, record.value)
                        key = (event.candle.symbol, event.candle.open_time.seconds)
                        if key in handed:
                            latencies.append(now - handed[key])

        await asyncio.wait_for(asyncio.gather(feed(), receive()), timeout=120)
        dwell = await pool.fetchrow(
            """
            SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM sent_at - created_at)) AS p50,
                   percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM sent_at - created_at)) AS p99
            FROM outbox WHERE sent_at IS NOT NULL
            """
        )
    finally:
        await consumer.stop()
        await relay.stop()
        await producer.stop()
        await close_pool(pool)
    return {
        "candles": len(latencies),
        "source_to_consumer_p50_ms": _ms(_percentile(latencies, 0.5)),
        "source_to_consumer_p99_ms": _ms(_percentile(latencies, 0.99)),
        "validate_store_outbox_p50_ms": _ms(_percentile(pipeline_seconds, 0.5)),
        "validate_store_outbox_p99_ms": _ms(_percentile(pipeline_seconds, 0.99)),
        "outbox_commit_to_kafka_ack_p50_ms": _ms(float(dwell["p50"])),
        "outbox_commit_to_kafka_ack_p99_ms": _ms(float(dwell["p99"])),
    }


async def _measure(url: str, bootstrap: str) -> dict[str, object]:
    return {"bulk_import": await bench_bulk(url), "live_path": await bench_live(url, bootstrap)}


def run() -> dict[str, object]:
    state_dir = Path(tempfile.mkdtemp(prefix="cp-bench-ingestion-"))
    state_dir.chmod(0o755)
    infra = EmbeddedInfra(state_dir, die_with_parent=True)
    try:
        url = _fresh_database(infra.database_url())
        figures = asyncio.run(_measure(url, infra.kafka_bootstrap_servers()))
        figures["postgres"] = "external" if os.environ.get("DATABASE_URL") else "embedded (fsync on)"
        return figures
    finally:
        infra.stop()
        shutil.rmtree(state_dir, ignore_errors=True)
