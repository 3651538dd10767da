"""Kafka: typed producer, transactional outbox, idempotent consumer with dead-letter topic."""

from cp_common.kafka.admin import ensure_topics
from cp_common.kafka.consumer import (
    Event,
    EventConsumer,
    PermanentError,
    PoisonMessage,
    Subscription,
    dlq_topic,
)
from cp_common.kafka.outbox import OutboxRelay, enqueue, enqueue_many
from cp_common.kafka.producer import EventProducer

__all__ = [
    "Event",
    "EventConsumer",
    "EventProducer",
    "OutboxRelay",
    "PermanentError",
    "PoisonMessage",
    "Subscription",
    "dlq_topic",
    "enqueue",
    "enqueue_many",
    "ensure_topics",
]
