"""Prometheus metrics of the notification service (exported on ``/metrics`` with the shared ones)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

from cp_common.metrics import LATENCY_BUCKETS

CONNECTIONS = Gauge("notification_ws_connections", "Open WebSocket connections by stream", ["stream"])
SENT = Counter("notification_ws_messages_sent_total", "Messages written to WebSocket clients", ["stream"])
CLOSED = Counter(
    "notification_ws_closed_total",
    "WebSocket connections the server closed, by reason (auth_failed, forbidden, expired, revoked, "
    "too_slow, shutdown)",
    ["reason"],
)
REPLAYED = Counter("notification_ws_replayed_total", "Entries replayed to reconnecting clients")
NOTICES = Counter("notification_notices_published_total", "Notices appended to the bus", ["type", "outcome"])
WEBHOOK_ATTEMPTS = Counter(
    "notification_webhook_attempts_total",
    "Webhook delivery attempts by outcome (delivered, failed, refused, dead_lettered)",
    ["outcome"],
)
WEBHOOK_SECONDS = Histogram(
    "notification_webhook_attempt_duration_seconds", "Duration of one webhook POST", buckets=LATENCY_BUCKETS
)
ENDPOINTS_DISABLED = Counter(
    "notification_webhook_endpoints_disabled_total", "Endpoints disabled after repeated failures"
)
WEBPUSH_ATTEMPTS = Counter(
    "notification_webpush_attempts_total",
    "Web push delivery attempts by outcome (delivered, failed, refused, gone, dead_lettered)",
    ["outcome"],
)
WEBPUSH_SECONDS = Histogram(
    "notification_webpush_attempt_duration_seconds",
    "Duration of one web push attempt (encryption, VAPID signature, POST)",
    buckets=LATENCY_BUCKETS,
)
PUSH_SUBSCRIPTIONS_REMOVED = Counter(
    "notification_push_subscriptions_expired_total",
    "Push subscriptions removed because the push service answered 404/410",
)
