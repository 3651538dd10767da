"""W3C trace context crosses HTTP -> outbox -> Kafka -> consumer: one trace end to end."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from cp_common.db.migrations import upgrade
from cp_common.db.pool import close_pool, create_pool
from cp_common.kafka import EventConsumer, EventProducer, OutboxRelay, Subscription, enqueue, ensure_topics
from cp_common.tests.kafka_helpers import MIGRATIONS, TOPIC, candle_event
from cp_testing.waiting import eventually
from cryptopredict.events.v1 import market_pb2


@pytest.fixture(scope="module")
def spans() -> InMemorySpanExporter:
    exporter = InMemorySpanExporter()
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        provider = TracerProvider()
        trace.set_tracer_provider(provider)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return exporter


async def test_consumer_span_joins_the_producers_trace(spans, database_url, kafka_bootstrap_servers):
    schema = f"trace_{uuid.uuid4().hex[:8]}"
    await asyncio.to_thread(upgrade, database_url, schema, MIGRATIONS)
    pool = await create_pool(database_url, schema, register_metrics=False)
    await ensure_topics(kafka_bootstrap_servers, [TOPIC])
    producer = EventProducer(kafka_bootstrap_servers, client_id="trace-test")
    await producer.start()
    symbol = f"TR{uuid.uuid4().hex[:5].upper()}"
    seen: list[str] = []

    async def handler(event, conn) -> None:
        if event.message.candle.symbol == symbol:
            seen.append(format(trace.get_current_span().get_span_context().trace_id, "032x"))

    consumer = EventConsumer(
        bootstrap_servers=kafka_bootstrap_servers,
        group_id=f"trace-{schema}",
        pool=pool,
        producer=producer,
        subscriptions=[Subscription(TOPIC, market_pb2.CandleClosed, handler)],
    )
    await consumer.start()
    relay = OutboxRelay(pool, producer, schema=schema, poll_interval=0.2)
    relay.start()
    try:
        tracer = trace.get_tracer("test")
        with tracer.start_as_current_span("POST /api/v1/something") as request_span:
            async with pool.acquire() as conn, conn.transaction():
                await enqueue(conn, TOPIC, candle_event(symbol, 1.0), schema=schema)
        producer_trace = format(request_span.get_span_context().trace_id, "032x")

        async def handled() -> bool:
            return bool(seen)

        await eventually(handled, within=30, what="event handled")
    finally:
        await relay.stop()
        await consumer.stop()
        await producer.stop()
        await close_pool(pool)
    assert seen == [producer_trace]
    consumer_spans = [
        s
        for s in spans.get_finished_spans()
        if s.name == f"{TOPIC} process" and format(s.context.trace_id, "032x") == producer_trace
    ]
    assert consumer_spans and consumer_spans[0].kind == trace.SpanKind.CONSUMER
    assert consumer_spans[0].parent.span_id == request_span.get_span_context().span_id
