"""Prometheus metrics every service exports, defined once so names and labels stay consistent.

Naming follows Prometheus conventions: base units (seconds), ``_total`` for counters, and
bounded label values only (route templates, never raw paths; topic names, never keys).
gRPC metrics live in :mod:`cp_common.grpc.metrics`.
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import REGISTRY, Collector

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

SERVICE_INFO = Gauge("cryptopredict_service_info", "Static service information", ["service", "version"])

HTTP_REQUESTS = Counter("http_requests_total", "HTTP requests handled", ["method", "route", "status"])
HTTP_LATENCY = Histogram(
    "http_request_duration_seconds",
    "HTTP request handling time",
    ["method", "route"],
    buckets=LATENCY_BUCKETS,
)
HTTP_IN_FLIGHT = Gauge("http_requests_in_flight", "HTTP requests being handled")
HTTP_HOT_READS = Counter(
    "http_hot_read_answers_total",
    "Hot reads answered from cache in front of their route (cp_common.http.hot_reads)",
    ["route"],
)

KAFKA_CONSUMED = Counter(
    "kafka_consumer_messages_total",
    "Kafka messages taken by consumers, by outcome (handled, duplicate, dead_lettered, retried)",
    ["topic", "group", "outcome"],
)
KAFKA_HANDLING = Histogram(
    "kafka_consumer_handling_seconds",
    "Time to handle one Kafka message",
    ["topic", "group"],
    buckets=LATENCY_BUCKETS,
)
KAFKA_LAG = Gauge(
    "kafka_consumer_lag_messages",
    "Messages between a consumer group's position and the partition's high watermark",
    ["topic", "partition", "group"],
)
KAFKA_PRODUCED = Counter("kafka_producer_messages_total", "Kafka messages published", ["topic", "outcome"])
OUTBOX_PENDING = Gauge("outbox_pending_events", "Outbox rows not yet relayed to Kafka", ["schema"])
OUTBOX_RELAYED = Counter("outbox_relayed_events_total", "Outbox rows relayed to Kafka", ["schema"])
OUTBOX_REPLAYED = Counter(
    "outbox_replayed_events_total", "Sent outbox rows queued to be published again", ["schema", "reason"]
)
BROKER_LOSSES = Counter(
    "kafka_broker_losses_total", "Times the broker was seen to have lost acknowledged records", ["schema"]
)

CIRCUIT_BREAKER_STATE = Gauge(
    "circuit_breaker_state", "Circuit breaker state (0 closed, 1 half-open, 2 open)", ["breaker"]
)


class DbPoolCollector(Collector):
    """Reports every live asyncpg pool's usage at scrape time (no background task needed)."""

    def __init__(self) -> None:
        self._pools: dict[int, tuple[str, object]] = {}

    def add(self, pool: object, name: str) -> None:
        self._pools[id(pool)] = (name, pool)

    def remove(self, pool: object) -> None:
        self._pools.pop(id(pool), None)

    def collect(self) -> Iterable[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "db_pool_connections", "PostgreSQL pool connections by state", labels=["pool", "state"]
        )
        for name, pool in list(self._pools.values()):
            size = pool.get_size()  # type: ignore[attr-defined]
            idle = pool.get_idle_size()  # type: ignore[attr-defined]
            family.add_metric([name, "in_use"], size - idle)
            family.add_metric([name, "idle"], idle)
            family.add_metric([name, "max"], pool.get_max_size())  # type: ignore[attr-defined]
        yield family


DB_POOLS = DbPoolCollector()
REGISTRY.register(DB_POOLS)


def render_latest() -> tuple[bytes, str]:
    """The exposition text for ``/metrics`` and its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
