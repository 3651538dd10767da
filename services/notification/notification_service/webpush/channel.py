"""The ``webpush`` channel of the delivery worker (the webhooks' retries and dead letter).

Each attempt encrypts the message for the subscription (aes128gcm, RFC 8291, pywebpush's
encoder over http-ece), signs a VAPID header (py-vapid) and POSTs through the same pinned,
policy-checked HTTP client as webhooks: pywebpush's own senders would connect to whatever the
name resolves to at send time, outside the address policy. A 404 or 410 from the push service
means the subscription expired: it is removed. A 413 cannot succeed on retry: dead letter at
once. Anything else that is not 2xx is retried, then dead-lettered.
"""

from __future__ import annotations

import logging
from dataclasses import replace

import asyncpg
import httpx
from pywebpush import WebPusher

from notification_service import metrics
from notification_service import repository as repo
from notification_service.delivery import AttemptResult, post_pinned
from notification_service.notices import Notice
from notification_service.settings import NotificationSettings
from notification_service.webhooks import addresses
from notification_service.webpush.subscriptions import check_endpoint
from notification_service.webpush.vapid import VapidKey

log = logging.getLogger(__name__)

GONE_STATUSES = frozenset({404, 410})
CONTENT_ENCODING = "aes128gcm"


def encrypt(body: bytes, keys: repo.PushKeys, endpoint: str) -> bytes:
    """``body`` encrypted for the subscription's browser (a new ephemeral key per message)."""
    pusher = WebPusher({"endpoint": endpoint, "keys": {"p256dh": keys.p256dh, "auth": keys.auth}})
    encrypted: bytes = pusher.encode(body, CONTENT_ENCODING)["body"]
    return encrypted


class WebPushChannel:
    attempts = metrics.WEBPUSH_ATTEMPTS
    seconds = metrics.WEBPUSH_SECONDS

    def __init__(self, settings: NotificationSettings, client: httpx.AsyncClient, key: VapidKey) -> None:
        self._settings = settings
        self._client = client
        self._key = key

    async def claim(self, pool: asyncpg.Pool, *, limit: int, lease_s: float) -> list[repo.DueDelivery]:
        return await repo.claim_due_push_deliveries(pool, limit=limit, lease_s=lease_s)

    async def attempt(self, delivery: repo.DueDelivery) -> AttemptResult:
        assert delivery.push is not None, "a web push delivery without its subscription keys"
        try:
            target = await check_endpoint(delivery.url, self._settings)
        except addresses.AddressRefused as exc:
            return AttemptResult(None, f"refused: {exc}", permanent=True)
        headers = {
            **self._key.authorization(delivery.url),
            "Content-Encoding": CONTENT_ENCODING,
            "Content-Type": "application/octet-stream",
            "TTL": str(self._settings.notification_push_ttl_s),
            "Urgency": "high",
        }
        body = encrypt(delivery.body, delivery.push, delivery.url)
        result = await post_pinned(self._client, target, body, headers)
        if result.status_code in GONE_STATUSES:
            return replace(result, gone=True)
        if result.status_code == 413:
            return replace(result, permanent=True)
        return result

    async def on_gone(self, conn: asyncpg.Connection, delivery: repo.DueDelivery) -> None:
        assert delivery.push is not None
        removed = await repo.remove_push_subscription(
            conn, delivery.push.subscription_id, reason="subscription expired"
        )
        if removed:
            metrics.PUSH_SUBSCRIPTIONS_REMOVED.inc()
            log.info(
                "push subscription expired", extra={"subscription_id": str(delivery.push.subscription_id)}
            )

    async def after_dead(
        self, conn: asyncpg.Connection, delivery: repo.DueDelivery, in_a_row: int
    ) -> Notice | None:
        """A dead-lettered push delivery changes nothing else (the subscription stays)."""
        return None
