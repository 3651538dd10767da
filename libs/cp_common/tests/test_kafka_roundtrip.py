"""Outbox -> Kafka -> idempotent consumer, against the real embedded PostgreSQL and broker."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import uuid

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from cp_common.db.migrations import upgrade
from cp_common.db.pool import close_pool, create_pool
from cp_common.kafka import (
    EventConsumer,
    EventProducer,
    OutboxRelay,
    Subscription,
    enqueue,
    enqueue_many,
    ensure_topics,
)
from cp_common.kafka import headers as h
from cp_common.metrics import KAFKA_CONSUMED
from cp_common.tests.kafka_helpers import MIGRATIONS, TOPIC, candle_event, record_in_ledger
from cp_common.topics import dlq_topic
from cp_testing.waiting import eventually
from cryptopredict.events.v1 import market_pb2


@pytest.fixture
async def service_db(database_url):
    """A fresh schema with the platform tables, and a pool on it."""
    schema = f"svc_{uuid.uuid4().hex[:8]}"
    await asyncio.to_thread(upgrade, database_url, schema, MIGRATIONS)
    pool = await create_pool(database_url, schema, register_metrics=False)
    yield schema, pool
    await close_pool(pool)


@pytest.fixture
async def producer(kafka_bootstrap_servers):
    await ensure_topics(kafka_bootstrap_servers, [TOPIC])
    producer = EventProducer(kafka_bootstrap_servers, client_id="test-producer")
    await producer.start()
    yield producer
    await producer.stop()


async def ledger_count(pool, symbol: str) -> int:
    return await pool.fetchval("SELECT count(*) FROM ledger WHERE symbol = $1", symbol)


async def publish_via_outbox(
    pool, schema: str, symbol: str, closes: list[float], source: str = "test"
) -> list[str]:
    ids = []
    for close in closes:
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "INSERT INTO balances (symbol, total) VALUES ($1, $2) "
                "ON CONFLICT (symbol) DO UPDATE SET total = balances.total + EXCLUDED.total",
                symbol,
                close,
            )
            ids.append(await enqueue(conn, TOPIC, candle_event(symbol, close, source), schema=schema))
    return ids


async def read_dlq(bootstrap: str, symbol_marker: bytes, expected: int) -> list:
    consumer = AIOKafkaConsumer(
        dlq_topic(TOPIC),
        bootstrap_servers=bootstrap,
        group_id=f"dlq-reader-{uuid.uuid4().hex}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    found = []
    try:
        for _ in range(60):
            batch = await consumer.getmany(timeout_ms=500)
            found += [r for records in batch.values() for r in records if r.key == symbol_marker]
            if len(found) >= expected:
                break
    finally:
        await consumer.stop()
    return found


def counted(outcome: str, group: str) -> float:
    return KAFKA_CONSUMED.labels(TOPIC, group, outcome)._value.get()


async def test_outbox_relay_consumer_duplicates_and_poison(service_db, producer, kafka_bootstrap_servers):
    schema, pool = service_db
    symbol = f"T{uuid.uuid4().hex[:6].upper()}"
    group = f"ledger-{uuid.uuid4().hex[:6]}"
    relay = OutboxRelay(pool, producer, schema=schema, poll_interval=0.2)
    consumer = EventConsumer(
        bootstrap_servers=kafka_bootstrap_servers,
        group_id=group,
        pool=pool,
        producer=producer,
        subscriptions=[Subscription(TOPIC, market_pb2.CandleClosed, record_in_ledger)],
        retry_backoff_seconds=0.01,
    )
    relay.start()
    await consumer.start()
    try:
        ids = await publish_via_outbox(pool, schema, symbol, [1.0, 2.0, 3.0, 4.0, 5.0])
        await eventually(lambda: _equals(ledger_count(pool, symbol), 5), within=30, what="5 events handled")
        assert await pool.fetchval("SELECT count(*) FROM outbox WHERE sent_at IS NULL") == 0

        # Duplicate delivery: the relay publishes every row again (as after a crash between
        # publish and marking sent). The consumer must not apply any of them twice.
        await pool.execute("UPDATE outbox SET sent_at = NULL")
        await eventually(lambda: _sent_all(pool), within=30, what="re-relay")
        await eventually(lambda: _at_least(counted("duplicate", group), 5), within=30, what="duplicates seen")
        assert await ledger_count(pool, symbol) == 5

        # Poison records straight onto the topic: undecodable payload, missing event id, and a
        # decodable event that the handler rejects permanently. Then a good event after them.
        raw = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap_servers)
        await raw.start()
        try:
            good_headers = h.new_event_headers(market_pb2.CandleClosed.DESCRIPTOR.full_name)
            await raw.send_and_wait(TOPIC, b"\x0a\xff", key=symbol.encode(), headers=h.encode(good_headers))
            await raw.send_and_wait(
                TOPIC,
                candle_event(symbol, 9.0).SerializeToString(),
                key=symbol.encode(),
                headers=[("event-type", b"x")],
            )
        finally:
            await raw.stop()
        await publish_via_outbox(pool, schema, symbol, [-1.0])
        last = await publish_via_outbox(pool, schema, symbol, [6.0])
        await eventually(
            lambda: _equals(ledger_count(pool, symbol), 6), within=30, what="event after poison handled"
        )
        handled_ids = {
            str(r["event_id"])
            for r in await pool.fetch("SELECT event_id FROM ledger WHERE symbol=$1", symbol)
        }
        assert handled_ids == set(ids + last)

        dead = await read_dlq(kafka_bootstrap_servers, symbol.encode(), expected=3)
        errors = sorted(h.decode(r.headers)[h.DLQ_ERROR_TYPE] for r in dead)
        assert errors == ["PermanentError", "PoisonMessage", "PoisonMessage"]
        for record in dead:
            meta = h.decode(record.headers)
            assert meta[h.DLQ_ORIGINAL_TOPIC] == TOPIC and meta[h.DLQ_CONSUMER_GROUP] == group
            assert meta[h.DLQ_ERROR]
    finally:
        await consumer.stop()
        await relay.stop()


async def test_consumer_killed_before_commit_handles_each_event_once(
    service_db, producer, database_url, kafka_bootstrap_servers
):
    schema, pool = service_db
    symbol = f"K{uuid.uuid4().hex[:6].upper()}"
    group = f"killable-{uuid.uuid4().hex[:6]}"
    ids = await publish_via_outbox(pool, schema, symbol, [1.0, 2.0, 3.0, 4.0])
    ids += await publish_via_outbox(pool, schema, symbol, [5.0], source="block")
    relay = OutboxRelay(pool, producer, schema=schema)
    while await relay.relay_once():
        pass

    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cp_common.tests.consumer_process",
            database_url,
            schema,
            kafka_bootstrap_servers,
            group,
            symbol,
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        # Four events handled and committed in PostgreSQL; the fifth hangs mid-batch, so the
        # batch's Kafka offsets are never committed. Then the process dies without warning.
        await eventually(lambda: _equals(ledger_count(pool, symbol), 4), within=60, what="4 handled")
        await asyncio.sleep(0.3)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)

    consumer = EventConsumer(
        bootstrap_servers=kafka_bootstrap_servers,
        group_id=group,
        pool=pool,
        producer=producer,
        subscriptions=[Subscription(TOPIC, market_pb2.CandleClosed, record_in_ledger)],
    )
    await consumer.start()
    try:
        await eventually(lambda: _equals(ledger_count(pool, symbol), 5), within=60, what="all 5 handled")
        await eventually(
            lambda: _at_least(counted("duplicate", group), 4), within=30, what="re-read duplicates"
        )
        await asyncio.sleep(0.5)  # anything wrongly applied twice would show up by now
    finally:
        await consumer.stop()
    rows = await pool.fetch("SELECT event_id FROM ledger WHERE symbol = $1", symbol)
    assert sorted(str(r["event_id"]) for r in rows) == sorted(ids)


async def test_crash_between_write_and_publish_loses_nothing(service_db, producer, kafka_bootstrap_servers):
    schema, pool = service_db
    symbol = f"C{uuid.uuid4().hex[:6].upper()}"
    # Written with no relay running (the process "crashed" before publishing)...
    ids = await publish_via_outbox(pool, schema, symbol, [1.0, 2.0])
    assert await pool.fetchval("SELECT count(*) FROM outbox WHERE sent_at IS NULL") == 2
    # ...a rolled-back transaction leaves no event behind...
    with contextlib.suppress(RuntimeError):
        async with pool.acquire() as conn, conn.transaction():
            await enqueue(conn, TOPIC, candle_event(symbol, 3.0), schema=schema)
            raise RuntimeError("state change failed")
    # ...and the next relay (a restarted replica) publishes exactly the committed ones.
    relay = OutboxRelay(pool, producer, schema=schema)
    assert await relay.relay_once() == 2
    assert await relay.relay_once() == 0
    group = f"check-{uuid.uuid4().hex[:6]}"
    consumer = EventConsumer(
        bootstrap_servers=kafka_bootstrap_servers,
        group_id=group,
        pool=pool,
        producer=producer,
        subscriptions=[Subscription(TOPIC, market_pb2.CandleClosed, record_in_ledger)],
    )
    await consumer.start()
    try:
        await eventually(lambda: _equals(ledger_count(pool, symbol), 2), within=30, what="2 handled")
    finally:
        await consumer.stop()
    rows = await pool.fetch("SELECT event_id FROM ledger WHERE symbol = $1", symbol)
    assert sorted(str(r["event_id"]) for r in rows) == sorted(ids)


async def test_enqueue_requires_a_transaction_and_a_registered_topic(service_db):
    _, pool = service_db
    async with pool.acquire() as conn:
        with pytest.raises(RuntimeError, match="inside the transaction"):
            await enqueue(conn, TOPIC, candle_event("BTC", 1.0), schema="x")
        async with conn.transaction():
            with pytest.raises(KeyError):
                await enqueue(conn, "no.such.topic", candle_event("BTC", 1.0), schema="x")


async def _equals(awaitable, expected) -> bool:
    return (await awaitable) == expected


async def _at_least(value: float, minimum: float) -> bool:
    return value >= minimum


async def _sent_all(pool) -> bool:
    return await pool.fetchval("SELECT count(*) FROM outbox WHERE sent_at IS NULL") == 0


async def test_enqueue_many_writes_in_order_and_relays_everything(service_db, producer):
    schema, pool = service_db
    symbol = f"M{uuid.uuid4().hex[:6].upper()}"
    async with pool.acquire() as conn, conn.transaction():
        ids = await enqueue_many(
            conn, TOPIC, [candle_event(symbol, c) for c in (1.0, 2.0, 3.0)], schema=schema
        )
    assert len(set(ids)) == 3
    rows = await pool.fetch("SELECT event_id, record_key FROM outbox ORDER BY id")
    assert [str(r["event_id"]) for r in rows] == ids
    assert {bytes(r["record_key"]) for r in rows} == {symbol.encode()}
    assert await OutboxRelay(pool, producer, schema=schema).relay_once() == 3
