"""The webhook channel of the delivery worker: signed POSTs to users' endpoints.

A failed attempt (no answer, timeout, non-2xx, a redirect: redirects are not followed) is
retried by :class:`notification_service.delivery.DeliveryWorker`; a target refused by the address
policy is dead-lettered at once. After ``disable_after`` dead-lettered deliveries in a row the
endpoint is disabled and its owner told (a notice in their inbox and on their open WebSockets).
"""

from __future__ import annotations

import logging

import asyncpg
import httpx

from notification_service import metrics
from notification_service import repository as repo
from notification_service.delivery import AttemptResult, post_pinned
from notification_service.notices import Notice, personal_notice
from notification_service.settings import NotificationSettings
from notification_service.webhooks import addresses, signing

log = logging.getLogger(__name__)

USER_AGENT = "CryptoPredict-Webhooks/1"


class WebhookChannel:
    attempts = metrics.WEBHOOK_ATTEMPTS
    seconds = metrics.WEBHOOK_SECONDS

    def __init__(self, settings: NotificationSettings, client: httpx.AsyncClient) -> None:
        self._settings = settings
        self._client = client

    async def claim(self, pool: asyncpg.Pool, *, limit: int, lease_s: float) -> list[repo.DueDelivery]:
        return await repo.claim_due_deliveries(pool, limit=limit, lease_s=lease_s)

    async def attempt(self, delivery: repo.DueDelivery) -> AttemptResult:
        try:
            target = await addresses.check(delivery.url, allow_private=self._settings.webhooks_allow_private)
        except addresses.AddressRefused as exc:
            return AttemptResult(None, f"refused: {exc}", permanent=True)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            signing.SIGNATURE_HEADER: signing.signature_header(delivery.secret, delivery.body),
            signing.EVENT_ID_HEADER: str(delivery.event_id),
            signing.EVENT_TYPE_HEADER: delivery.event_type,
            signing.DELIVERY_ID_HEADER: str(delivery.id),
        }
        return await post_pinned(self._client, target, delivery.body, headers)

    async def on_gone(self, conn: asyncpg.Connection, delivery: repo.DueDelivery) -> None:
        """Webhook attempts are never ``gone`` (a 410 from a receiver is an ordinary failure)."""

    async def after_dead(
        self, conn: asyncpg.Connection, delivery: repo.DueDelivery, in_a_row: int
    ) -> Notice | None:
        """Disable the endpoint after too many dead letters in a row; the owner's notice."""
        if in_a_row < self._settings.notification_webhook_disable_after or delivery.endpoint_id is None:
            return None
        reason = f"{in_a_row} deliveries in a row failed"
        if not await repo.disable_endpoint(conn, delivery.endpoint_id, reason):
            return None
        metrics.ENDPOINTS_DISABLED.inc()
        message = f"Your webhook endpoint {delivery.url} was disabled: {reason}."
        data = {"endpoint_id": str(delivery.endpoint_id), "url": delivery.url, "reason": reason}
        notice_id = await repo.add_notice(conn, delivery.user_id, "webhook_disabled", message, data)
        log.warning("webhook endpoint disabled", extra={"endpoint_id": str(delivery.endpoint_id)})
        return personal_notice(delivery.user_id, "webhook_disabled", message, data, str(notice_id))
