"""Prometheus metrics of the ingestion service (exported on ``/metrics`` with the shared ones)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

from cp_common.metrics import LATENCY_BUCKETS
from cp_market.report import RejectReason

REJECTED = Counter(
    "ingestion_rejected_candles_total",
    "Candles refused by validation (importers, sources and the service's own check), by reason code",
    ["reason"],
)
STORED = Counter(
    "ingestion_candles_stored_total",
    "Candles written to PostgreSQL by interval and outcome (inserted, updated, unchanged)",
    ["interval", "outcome"],
)
SNAPSHOTS_STORED = Counter(
    "ingestion_snapshots_stored_total", "Market snapshots written by outcome", ["outcome"]
)
EVENTS = Counter("ingestion_events_enqueued_total", "Events put into the outbox", ["topic"])
LAST_CLOSE = Gauge(
    "ingestion_last_candle_close_timestamp_seconds",
    "Close time (Unix seconds, feed clock) of the newest candle stored",
    ["interval"],
)
FEED_ERRORS = Counter(
    "ingestion_feed_errors_total", "Failures of the market-data feed (it restarts after a pause)", ["feed"]
)
BATCH_SECONDS = Histogram(
    "ingestion_batch_store_seconds",
    "Time to validate and store one batch (live: from the candle's arrival to the commit)",
    ["mode"],
    buckets=LATENCY_BUCKETS,
)
LIVE_LEADER = Gauge(
    "ingestion_live_poller_leader", "1 while this replica holds the live poller's lock, else 0"
)

for _reason in RejectReason:
    REJECTED.labels(str(_reason))  # every reason is exported from the start (value 0)
