"""Typed event producer over aiokafka.

Idempotence (and so exactly-once delivery into a partition) is a setting, on only against
real Kafka: the embedded broker does not implement InitProducerId. Correctness does not rest
on it: events that must not be lost go through the outbox, and consumers are idempotent.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping

from aiokafka import AIOKafkaProducer
from aiokafka.structs import RecordMetadata
from google.protobuf.message import Message

from cp_common import topics
from cp_common.kafka import headers as h
from cp_common.metrics import KAFKA_PRODUCED

log = logging.getLogger(__name__)


class EventProducer:
    def __init__(self, bootstrap_servers: str, *, client_id: str, enable_idempotence: bool = False) -> None:
        self._producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap_servers,
            client_id=client_id,
            acks="all",
            enable_idempotence=enable_idempotence,
            linger_ms=5,
            request_timeout_ms=15000,
        )
        self._started = False

    async def start(self) -> None:
        await self._producer.start()
        self._started = True

    async def stop(self) -> None:
        if self._started:
            await self._producer.stop()
            self._started = False

    async def send_raw(
        self, topic: str, value: bytes, *, key: bytes | None, headers: Mapping[str, str]
    ) -> asyncio.Future[RecordMetadata]:
        """Queue one record; the returned future resolves when the broker acknowledges it."""
        future = await self._producer.send(topic, value=value, key=key, headers=h.encode(headers))
        future.add_done_callback(
            lambda f: KAFKA_PRODUCED.labels(topic, "error" if f.exception() else "ok").inc()
        )
        return future

    async def publish(self, topic: str, message: Message, *, event_id: str | None = None) -> RecordMetadata:
        """Publish one event directly (no outbox) and wait for the acknowledgement.

        For events whose loss is tolerable or that are re-derivable. Anything that records a
        state change must go through :func:`cp_common.kafka.outbox.enqueue` instead.
        """
        headers = h.new_event_headers(message.DESCRIPTOR.full_name, event_id)
        key = topics.record_key(topic, message)
        future = await self.send_raw(topic, message.SerializeToString(), key=key, headers=headers)
        return await future

    async def ready(self) -> None:
        """Readiness: the cluster answers a metadata request (now, not from the cache: with
        the broker down the cached metadata would still list it)."""
        if not await self._producer.client.force_metadata_update():
            raise ConnectionError("the Kafka cluster did not answer a metadata request")
        if not self._producer.client.cluster.brokers():
            raise ConnectionError("no Kafka broker known")
