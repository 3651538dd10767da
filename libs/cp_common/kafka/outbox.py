"""Transactional outbox: events are written in the same PostgreSQL transaction as the state
change they describe, then relayed to Kafka and marked sent.

A crash between the write and the publish loses nothing: the row stays unsent and the next
relay pass publishes it. A crash between the publish and the ``sent_at`` update publishes it
again, which idempotent consumers absorb (delivery is at-least-once by design).

Ordering: one relay pass runs at a time per schema (a transaction-scoped advisory lock), rows
go out in ``id`` order, and a pass stops marking rows at the first failed send, so an event
is never marked sent ahead of an earlier one for the same entity.

Broker loss: sent rows stay for ``retention_days``. With a :class:`~cp_common.kafka.replay.BrokerWatch`
the relay notices that the broker lost records it had acknowledged (a restart of the in-memory
broker), recreates the topics (``on_broker_loss``) and publishes again every row sent since the
broker was last seen intact, minus ``replay_lag_s`` for records consumers had not read yet.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta

import asyncpg
from aiokafka.errors import KafkaError
from aiokafka.structs import RecordMetadata
from google.protobuf.message import Message

from cp_common import topics
from cp_common.kafka import headers as h
from cp_common.kafka.producer import EventProducer
from cp_common.kafka.replay import BrokerWatch, replay_since
from cp_common.metrics import BROKER_LOSSES, OUTBOX_PENDING, OUTBOX_RELAYED

log = logging.getLogger(__name__)


def notify_channel(schema: str) -> str:
    return f"outbox_{schema}"


async def enqueue(
    conn: asyncpg.Connection,
    topic: str,
    message: Message,
    *,
    schema: str,
    event_id: str | None = None,
) -> str:
    """Add an event to the outbox inside the caller's transaction; returns its event id.

    The topic must be in :mod:`cp_common.topics`; the message type is checked against it and
    the record key (the entity) is taken from the registry's key field.
    """
    (event_id,) = await enqueue_many(
        conn, topic, [message], schema=schema, event_ids=[event_id] if event_id else None
    )
    return event_id


async def enqueue_many(
    conn: asyncpg.Connection,
    topic: str,
    messages: Sequence[Message],
    *,
    schema: str,
    event_ids: Sequence[str] | None = None,
) -> list[str]:
    """:func:`enqueue` for many events of one topic in one round trip (and one NOTIFY);
    they are relayed in the order given."""
    if not conn.is_in_transaction():
        raise RuntimeError("outbox.enqueue must run inside the transaction of the state change")
    if not messages:
        return []
    ids = list(event_ids) if event_ids is not None else [str(uuid.uuid4()) for _ in messages]
    if len(ids) != len(messages):
        raise ValueError("one event id per message")
    rows = [
        (
            uuid.UUID(event_id),
            topic,
            topics.record_key(topic, message),
            message.SerializeToString(),
            json.dumps(h.new_event_headers(message.DESCRIPTOR.full_name, event_id)),
        )
        for event_id, message in zip(ids, messages, strict=True)
    ]
    await conn.executemany(
        "INSERT INTO outbox (event_id, topic, record_key, payload, headers) VALUES ($1, $2, $3, $4, $5)",
        rows,
    )
    # Delivered only when the transaction commits, so the relay never sees uncommitted rows.
    await conn.execute("SELECT pg_notify($1, '')", notify_channel(schema))
    return ids


class OutboxRelay:
    def __init__(
        self,
        pool: asyncpg.Pool,
        producer: EventProducer,
        *,
        schema: str,
        batch_size: int = 200,
        poll_interval: float = 1.0,
        retention_days: int = 7,
        prune_interval: float = 3600.0,
        broker_watch: BrokerWatch | None = None,
        broker_check_interval: float = 5.0,
        replay_lag_s: float = 600.0,
        on_broker_loss: Callable[[], Awaitable[object]] | None = None,
    ) -> None:
        self._pool = pool
        self._producer = producer
        self._schema = schema
        self._batch_size = batch_size
        self._poll_interval = poll_interval
        self._retention_days = retention_days
        self._prune_interval = prune_interval
        self._last_prune = float("-inf")
        self._watch = broker_watch
        self._broker_check_interval = broker_check_interval
        self._replay_lag = timedelta(seconds=replay_lag_s)
        self._on_broker_loss = on_broker_loss
        self._last_broker_check = time.monotonic()
        self._loss_seen = False
        self._wakeup = asyncio.Event()
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def relay_once(self) -> int:
        """Publish up to one batch of unsent rows; returns how many were marked sent."""
        async with self._pool.acquire() as conn, conn.transaction():
            locked = await conn.fetchval(
                "SELECT pg_try_advisory_xact_lock(hashtext($1))", f"outbox-relay.{self._schema}"
            )
            if not locked:
                return 0
            rows = await conn.fetch(
                "SELECT id, topic, record_key, payload, headers FROM outbox "
                "WHERE sent_at IS NULL ORDER BY id LIMIT $1",
                self._batch_size,
            )
            if not rows:
                OUTBOX_PENDING.labels(self._schema).set(0)
                return 0
            futures = []
            for row in rows:
                headers = json.loads(row["headers"])
                futures.append(
                    await self._producer.send_raw(
                        row["topic"], row["payload"], key=row["record_key"], headers=headers
                    )
                )
            results = await asyncio.gather(*futures, return_exceptions=True)
            sent_ids: list[int] = []
            acks: list[tuple[str, int, int]] = []
            for row, result in zip(rows, results, strict=True):
                if isinstance(result, BaseException):
                    await conn.execute(
                        "UPDATE outbox SET attempts = attempts + 1, last_error = $2 WHERE id = $1",
                        row["id"],
                        f"{type(result).__name__}: {result}"[:500],
                    )
                    log.warning("outbox publish failed", extra={"topic": row["topic"], "error": str(result)})
                    break
                if isinstance(result, RecordMetadata):
                    acks.append((result.topic, result.partition, result.offset))
                sent_ids.append(row["id"])
            if self._watch is not None and acks:
                self._loss_seen |= self._watch.observe_pass(acks)
            if sent_ids:
                await conn.execute(
                    "UPDATE outbox SET sent_at = now(), attempts = attempts + 1 WHERE id = ANY($1::bigint[])",
                    sent_ids,
                )
                OUTBOX_RELAYED.labels(self._schema).inc(len(sent_ids))
            pending = await conn.fetchval("SELECT count(*) FROM outbox WHERE sent_at IS NULL")
            OUTBOX_PENDING.labels(self._schema).set(pending - len(sent_ids))
            return len(sent_ids)

    async def recover_from_broker_loss(self) -> int:
        """Recreate the topics and queue again every row sent since the broker was last seen
        intact (minus the consumer lag allowance); returns how many rows were queued."""
        if self._watch is None:
            return 0
        since = self._watch.last_good - self._replay_lag
        BROKER_LOSSES.labels(self._schema).inc()
        log.warning(
            "broker lost acknowledged records", extra={"schema": self._schema, "since": since.isoformat()}
        )
        if self._on_broker_loss is not None:
            await self._on_broker_loss()
        queued = await replay_since(self._pool, since, schema=self._schema, reason="broker-loss")
        self._watch.reset()
        self._loss_seen = False
        return queued

    async def _watch_broker_when_due(self) -> None:
        if self._watch is None:
            return
        now = time.monotonic()
        if not self._loss_seen and now - self._last_broker_check < self._broker_check_interval:
            return
        self._last_broker_check = now
        try:
            if self._loss_seen or await self._watch.check():
                await self.recover_from_broker_loss()
        except (OSError, KafkaError, asyncpg.PostgresError) as exc:
            log.warning("broker loss recovery failed", extra={"error": str(exc)})

    async def prune(self, older_than_days: int = 7) -> int:
        """Delete rows sent more than ``older_than_days`` ago."""
        result = await self._pool.execute(
            "DELETE FROM outbox WHERE sent_at < now() - make_interval(days => $1)", older_than_days
        )
        return int(result.split()[-1])

    async def _prune_when_due(self) -> None:
        now = time.monotonic()
        if now - self._last_prune < self._prune_interval:
            return
        self._last_prune = now
        try:
            deleted = await self.prune(self._retention_days)
        except (OSError, asyncpg.PostgresError) as exc:
            log.warning("outbox prune failed", extra={"error": str(exc)})
            return
        if deleted:
            log.info("outbox pruned", extra={"schema": self._schema, "deleted": deleted})

    async def run(self) -> None:
        """Relay until stopped: woken by NOTIFY on commit, polling as a fallback. Sent rows
        older than ``retention_days`` are deleted once per ``prune_interval``."""
        listener = await self._pool.acquire()
        channel = notify_channel(self._schema)

        def on_notify(*_: object) -> None:
            self._wakeup.set()

        await listener.add_listener(channel, on_notify)
        try:
            while not self._stopping.is_set():
                await self._prune_when_due()
                await self._watch_broker_when_due()
                try:
                    relayed = await self.relay_once()
                except (OSError, asyncpg.PostgresError) as exc:
                    log.warning("outbox relay pass failed", extra={"error": str(exc)})
                    relayed = 0
                if relayed >= self._batch_size:
                    continue
                self._wakeup.clear()
                wait = self._poll_interval
                if self._watch is not None:
                    wait = min(wait, self._broker_check_interval)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wakeup.wait(), wait)
        finally:
            with contextlib.suppress(Exception):
                await listener.remove_listener(channel, on_notify)
            await self._pool.release(listener)
            if self._watch is not None:
                await self._watch.close()

    def start(self) -> asyncio.Task[None]:
        self._task = asyncio.create_task(self.run(), name=f"outbox-relay-{self._schema}")
        return self._task

    async def stop(self) -> None:
        self._stopping.set()
        self._wakeup.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
