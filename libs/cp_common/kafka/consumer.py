"""Idempotent, at-least-once event consumer with a dead-letter topic.

For each record: decode and check it (a record that cannot be decoded or has the wrong event
type is *poison*), then, in ONE PostgreSQL transaction, claim its ``event-id`` in
``processed_events`` and run the handler. A duplicate delivery finds the claim and is skipped,
so a handler's effect happens once even though Kafka delivers at least once. Offsets are
committed only after the records before them were handled (or dead-lettered).

A poison record, a handler raising :class:`PermanentError`, or a handler that keeps failing
after ``max_attempts`` goes to ``<topic>.dlq`` with the error in headers; the consumer moves
on, so one bad record never blocks its partition or crashes the process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError
from google.protobuf.message import DecodeError, Message
from opentelemetry import context as otel_context
from opentelemetry import trace

from cp_common import topics
from cp_common.context import request_id_var
from cp_common.kafka import headers as h
from cp_common.kafka.producer import EventProducer
from cp_common.metrics import KAFKA_CONSUMED, KAFKA_HANDLING, KAFKA_LAG
from cp_common.topics import dlq_topic
from cp_common.tracing import extract_context

log = logging.getLogger(__name__)
_tracer = trace.get_tracer(__name__)


class PoisonMessage(Exception):
    """The record can never be handled (undecodable, wrong type, invalid content)."""


class PermanentError(Exception):
    """Raised by a handler when retrying cannot help; the record is dead-lettered at once."""


@dataclass(frozen=True)
class Event:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    event_id: str
    event_type: str
    message: Any
    headers: Mapping[str, str]
    timestamp: datetime


Handler = Callable[[Event, asyncpg.Connection], Awaitable[None]]


@dataclass(frozen=True)
class Subscription:
    topic: str
    message_type: type[Message]
    handler: Handler


def decode_record(record: ConsumerRecord, message_type: type[Message]) -> Event:
    """Turn a Kafka record into an :class:`Event`, raising :class:`PoisonMessage` if it is bad."""
    headers = h.decode(record.headers)
    event_id = headers.get(h.EVENT_ID, "")
    try:
        uuid.UUID(event_id)
    except ValueError:
        raise PoisonMessage(f"missing or invalid {h.EVENT_ID} header") from None
    expected = message_type.DESCRIPTOR.full_name
    event_type = headers.get(h.EVENT_TYPE)
    if event_type != expected:
        raise PoisonMessage(f"{h.EVENT_TYPE} is {event_type!r}, expected {expected!r}")
    if record.value is None:
        raise PoisonMessage("record has no value")
    try:
        message = message_type.FromString(record.value)
    except (DecodeError, ValueError) as exc:
        raise PoisonMessage(f"cannot decode {expected}: {exc}") from None
    return Event(
        topic=record.topic,
        partition=record.partition,
        offset=record.offset,
        key=record.key,
        event_id=event_id,
        event_type=event_type,
        message=message,
        headers=headers,
        timestamp=datetime.fromtimestamp(record.timestamp / 1000, UTC),
    )


class EventConsumer:
    def __init__(
        self,
        *,
        bootstrap_servers: str,
        group_id: str,
        subscriptions: list[Subscription],
        pool: asyncpg.Pool,
        producer: EventProducer,
        max_attempts: int = 3,
        retry_backoff_seconds: float = 0.2,
        batch_size: int = 100,
        dedup_retention_days: int = 14,
        prune_interval: float = 3600.0,
        fetch_max_wait_ms: int = 500,
    ) -> None:
        """``dedup_retention_days`` bounds how long an event id is remembered: it must exceed
        the longest time a record can be redelivered (topic retention, replays).
        ``fetch_max_wait_ms`` is how long the broker may hold a fetch with nothing new; the
        embedded broker always holds it that long, so it bounds the added latency there."""
        self._by_topic = {s.topic: s for s in subscriptions}
        self._group_id = group_id
        self._pool = pool
        self._producer = producer
        self._max_attempts = max_attempts
        self._retry_backoff = retry_backoff_seconds
        self._batch_size = batch_size
        self._dedup_retention_days = dedup_retention_days
        self._prune_interval = prune_interval
        self._last_prune = float("-inf")
        self._consumer = AIOKafkaConsumer(
            *self._by_topic,
            bootstrap_servers=bootstrap_servers,
            group_id=group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            fetch_max_wait_ms=fetch_max_wait_ms,
        )
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> asyncio.Task[None]:
        await self._consumer.start()
        self._task = asyncio.create_task(self.run(), name=f"consumer-{self._group_id}")
        return self._task

    async def stop(self) -> None:
        self._stopping.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._consumer.stop()

    async def prune_processed(self, older_than_days: int) -> int:
        """Forget this group's event ids claimed more than ``older_than_days`` ago."""
        result = await self._pool.execute(
            "DELETE FROM processed_events WHERE consumer_group = $1 "
            "AND processed_at < now() - make_interval(days => $2)",
            self._group_id,
            older_than_days,
        )
        return int(result.split()[-1])

    async def _prune_when_due(self) -> None:
        now = time.monotonic()
        if now - self._last_prune < self._prune_interval:
            return
        self._last_prune = now
        try:
            await self.prune_processed(self._dedup_retention_days)
        except (OSError, asyncpg.PostgresError) as exc:
            log.warning("processed-event prune failed", extra={"error": str(exc)})

    async def run(self) -> None:
        while not self._stopping.is_set():
            await self._prune_when_due()
            try:
                await self._consume_once()
            except KafkaError as exc:
                # The broker went away or lost the group (a restart of the in-memory broker):
                # uncommitted records come again after the rejoin and are skipped as duplicates.
                log.warning("consumer pass failed; retrying", extra={"error": f"{type(exc).__name__}: {exc}"})
                await asyncio.sleep(1.0)

    async def _consume_once(self) -> None:
        batches = await self._consumer.getmany(timeout_ms=500, max_records=self._batch_size)
        for tp, records in batches.items():
            for record in records:
                await self._process(record)
            await self._consumer.commit({tp: records[-1].offset + 1})
        await self._report_lag()

    async def _report_lag(self) -> None:
        for tp in self._consumer.assignment():
            highwater = self._consumer.highwater(tp)
            if highwater is None:
                continue
            position = await self._consumer.position(tp)
            lag = max(highwater - position, 0)
            KAFKA_LAG.labels(tp.topic, str(tp.partition), self._group_id).set(lag)

    async def _process(self, record: ConsumerRecord) -> None:
        subscription = self._by_topic[record.topic]
        raw_headers = h.decode(record.headers)
        parent = extract_context(raw_headers)
        token = otel_context.attach(parent)
        rid_token = request_id_var.set(raw_headers.get(h.REQUEST_ID))
        started = time.perf_counter()
        try:
            with _tracer.start_as_current_span(
                f"{record.topic} process",
                kind=trace.SpanKind.CONSUMER,
                attributes={
                    "messaging.system": "kafka",
                    "messaging.destination.name": record.topic,
                    "messaging.kafka.consumer.group": self._group_id,
                },
            ):
                outcome = await self._handle_with_retries(record, subscription)
            KAFKA_CONSUMED.labels(record.topic, self._group_id, outcome).inc()
        finally:
            KAFKA_HANDLING.labels(record.topic, self._group_id).observe(time.perf_counter() - started)
            request_id_var.reset(rid_token)
            otel_context.detach(token)

    async def _handle_with_retries(self, record: ConsumerRecord, subscription: Subscription) -> str:
        try:
            event = decode_record(record, subscription.message_type)
        except PoisonMessage as exc:
            await self._dead_letter(record, exc)
            return "dead_lettered"
        attempt = 0
        while True:
            attempt += 1
            try:
                return await self._handle_once(event, subscription.handler)
            except PermanentError as exc:
                await self._dead_letter(record, exc)
                return "dead_lettered"
            except Exception as exc:
                if attempt >= self._max_attempts:
                    await self._dead_letter(record, exc)
                    return "dead_lettered"
                KAFKA_CONSUMED.labels(record.topic, self._group_id, "retried").inc()
                log.warning(
                    "handler failed; retrying",
                    extra={"topic": record.topic, "attempt": attempt, "error": repr(exc)},
                )
                await asyncio.sleep(self._retry_backoff * 2 ** (attempt - 1))

    async def _handle_once(self, event: Event, handler: Handler) -> str:
        async with self._pool.acquire() as conn, conn.transaction():
            claimed = await conn.fetchval(
                "INSERT INTO processed_events (event_id, consumer_group, topic) VALUES ($1, $2, $3) "
                "ON CONFLICT DO NOTHING RETURNING 1",
                uuid.UUID(event.event_id),
                self._group_id,
                event.topic,
            )
            if not claimed:
                return "duplicate"
            await handler(event, conn)
            return "handled"

    async def _dead_letter(self, record: ConsumerRecord, error: BaseException) -> None:
        headers = h.decode(record.headers)
        headers.update(
            {
                h.DLQ_ERROR: str(error)[:1000],
                h.DLQ_ERROR_TYPE: type(error).__name__,
                h.DLQ_ORIGINAL_TOPIC: record.topic,
                h.DLQ_ORIGINAL_PARTITION: str(record.partition),
                h.DLQ_ORIGINAL_OFFSET: str(record.offset),
                h.DLQ_CONSUMER_GROUP: self._group_id,
                h.DLQ_FAILED_AT: datetime.now(UTC).isoformat(),
            }
        )
        log.error(
            "dead-lettering record",
            extra={"topic": record.topic, "offset": record.offset, "error_type": type(error).__name__},
        )
        delay = self._retry_backoff
        while True:  # the DLQ write must succeed before the offset may be committed
            try:
                future = await self._producer.send_raw(
                    dlq_topic(record.topic), record.value or b"", key=record.key, headers=headers
                )
                await future
                return
            except Exception as exc:
                if self._stopping.is_set():
                    raise
                log.warning("dead-letter publish failed; retrying", extra={"error": repr(exc)})
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)


def subscriptions_from_registry(handlers: Mapping[str, Handler]) -> list[Subscription]:
    """Subscriptions whose message types come from the topic registry (:mod:`cp_common.topics`)."""
    return [Subscription(t, topics.message_type(t), fn) for t, fn in handlers.items()]


__all__ = [
    "Event",
    "EventConsumer",
    "Handler",
    "PermanentError",
    "PoisonMessage",
    "Subscription",
    "TopicPartition",
    "decode_record",
    "dlq_topic",
    "subscriptions_from_registry",
]
