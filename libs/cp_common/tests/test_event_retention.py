"""The outbox and the processed-event table do not grow forever."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest

from cp_common.db.migrations import upgrade
from cp_common.db.pool import close_pool, create_pool
from cp_common.kafka import EventConsumer, EventProducer, OutboxRelay, Subscription
from cp_common.tests.kafka_helpers import MIGRATIONS, TOPIC, record_in_ledger
from cryptopredict.events.v1 import market_pb2


@pytest.fixture
async def pool(database_url):
    schema = f"ret_{uuid.uuid4().hex[:8]}"
    await asyncio.to_thread(upgrade, database_url, schema, MIGRATIONS)
    pool = await create_pool(database_url, schema, register_metrics=False)
    yield pool
    await close_pool(pool)


async def test_relay_prunes_only_old_sent_rows(pool, kafka_bootstrap_servers):
    rows = [(timedelta(days=10), True), (timedelta(days=10), False), (timedelta(days=1), True)]  # (age, sent)
    for age, sent in rows:
        await pool.execute(
            "INSERT INTO outbox (event_id, topic, payload, created_at, sent_at) "
            "VALUES ($1, 'x', '', now() - $2::interval, CASE WHEN $3 THEN now() - $2::interval END)",
            uuid.uuid4(),
            age,
            sent,
        )
    relay = OutboxRelay(pool, EventProducer(kafka_bootstrap_servers, client_id="r"), schema="x")
    assert await relay.prune(older_than_days=7) == 1
    left = await pool.fetch("SELECT sent_at IS NULL AS unsent FROM outbox ORDER BY created_at")
    # the old unsent row is kept: it has not reached Kafka yet
    assert [r["unsent"] for r in left] == [True, False]


async def test_consumer_forgets_only_its_own_old_event_ids(pool, kafka_bootstrap_servers):
    for group, age in [("g1", timedelta(days=20)), ("g1", timedelta(days=1)), ("g2", timedelta(days=20))]:
        await pool.execute(
            "INSERT INTO processed_events (event_id, consumer_group, topic, processed_at) "
            "VALUES ($1, $2, 't', now() - $3::interval)",
            uuid.uuid4(),
            group,
            age,
        )
    consumer = EventConsumer(
        bootstrap_servers=kafka_bootstrap_servers,
        group_id="g1",
        pool=pool,
        producer=EventProducer(kafka_bootstrap_servers, client_id="c"),
        subscriptions=[Subscription(TOPIC, market_pb2.CandleClosed, record_in_ledger)],
    )
    assert await consumer.prune_processed(older_than_days=14) == 1
    left = await pool.fetch("SELECT consumer_group FROM processed_events ORDER BY consumer_group")
    assert [r["consumer_group"] for r in left] == ["g1", "g2"]
