"""Reading what services published: a topic's messages from the beginning, decoded with the
topic registry, with their standard headers."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

from aiokafka import AIOKafkaConsumer

from cp_common import topics
from cp_common.kafka import headers as kafka_headers


async def read_topic(
    bootstrap: str,
    topic: str,
    match: Callable[[Any], bool],
    count: int,
    within_s: float = 30.0,
    event_ids: set[str] | None = None,
) -> list[tuple[Any, dict[str, str]]]:
    """The first ``count`` messages on ``topic`` (from the beginning) for which ``match`` holds
    (and, given ``event_ids``, whose ``event-id`` header is one of them); a dead-letter topic's
    records are decoded as its original topic's messages."""
    decoded_as = topic.removesuffix(topics.DLQ_SUFFIX)
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=f"topic-reader-{uuid.uuid4().hex[:8]}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    found: list[tuple[Any, dict[str, str]]] = []
    deadline = time.monotonic() + within_s
    try:
        while len(found) < count and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                for record in records:
                    message = topics.decode(decoded_as, record.value)
                    headers = kafka_headers.decode(record.headers)
                    if match(message) and (event_ids is None or headers.get("event-id") in event_ids):
                        found.append((message, headers))
    finally:
        await consumer.stop()
    return found
