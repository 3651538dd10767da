"""The webhook delivery worker: due deliveries are leased, POSTed signed, and recorded.

Each replica runs one worker; a delivery is leased (``FOR UPDATE SKIP LOCKED`` + a lease time)
so no two replicas send it. Every attempt is recorded. A failed attempt (no answer, timeout,
non-2xx, a redirect: redirects are not followed) is retried after ``backoff * 2**(n-1)`` seconds
(capped, with a little jitter); after ``max_attempts`` the delivery moves to the dead letter
(status ``dead``). A target refused by the address policy is dead-lettered at once. After
``disable_after`` dead-lettered deliveries in a row the endpoint is disabled and its owner told
(a notice in their inbox and on their open WebSockets).
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from dataclasses import dataclass

import asyncpg
import httpx

from notification_service import metrics
from notification_service import repository as repo
from notification_service.bus import EventBus
from notification_service.notices import Notice, personal_notice
from notification_service.settings import NotificationSettings
from notification_service.webhooks import addresses, signing

log = logging.getLogger(__name__)

USER_AGENT = "CryptoPredict-Webhooks/1"
#: A lease longer than one attempt can take (timeout plus bookkeeping).
LEASE_MARGIN_S = 30.0


@dataclass(frozen=True)
class AttemptResult:
    status_code: int | None
    error: str | None
    #: Retrying cannot help (the address policy refused the target).
    permanent: bool = False

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def pinned_request_url(target: addresses.Target) -> str:
    """The URL with its host replaced by the checked address (the Host header keeps the name)."""
    address = target.addresses[0]
    host = f"[{address}]" if address.version == 6 else str(address)
    parts = target.url
    path = parts.path or "/"
    query = f"?{parts.query}" if parts.query else ""
    return f"{parts.scheme}://{host}:{target.port}{path}{query}"


def host_header(target: addresses.Target) -> str:
    default = 443 if target.url.scheme == "https" else 80
    return target.host if target.port == default else f"{target.host}:{target.port}"


class WebhookWorker:
    def __init__(
        self, pool: asyncpg.Pool, bus: EventBus, settings: NotificationSettings, client: httpx.AsyncClient
    ) -> None:
        self._pool = pool
        self._bus = bus
        self._settings = settings
        self._client = client

    async def run_forever(self) -> None:
        while True:
            try:
                handled = await self.run_once()
            except (OSError, asyncpg.PostgresError) as exc:
                log.warning("webhook worker round failed", extra={"error": repr(exc)})
                handled = 0
            if handled == 0:
                await asyncio.sleep(self._settings.notification_webhook_poll_s)

    async def run_once(self) -> int:
        lease = self._settings.notification_webhook_timeout_s + LEASE_MARGIN_S
        due = await repo.claim_due_deliveries(
            self._pool, limit=self._settings.notification_webhook_batch, lease_s=lease
        )
        await asyncio.gather(*(self._deliver(delivery) for delivery in due))
        return len(due)

    async def _deliver(self, delivery: repo.DueDelivery) -> None:
        started = time.perf_counter()
        result = await self.attempt(delivery)
        elapsed = time.perf_counter() - started
        metrics.WEBHOOK_SECONDS.observe(elapsed)
        async with self._pool.acquire() as conn, conn.transaction():
            await repo.record_attempt(
                conn, delivery.id, delivery.attempts + 1, result.status_code, result.error, elapsed * 1000
            )
            disabled = await self._settle(conn, delivery, result)
        if disabled is not None:
            await self._bus.publish(disabled)

    async def attempt(self, delivery: repo.DueDelivery) -> AttemptResult:
        try:
            target = await addresses.check(delivery.url, allow_private=self._settings.webhooks_allow_private)
        except addresses.AddressRefused as exc:
            return AttemptResult(None, f"refused: {exc}", permanent=True)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "Host": host_header(target),
            signing.SIGNATURE_HEADER: signing.signature_header(delivery.secret, delivery.body),
            signing.EVENT_ID_HEADER: str(delivery.event_id),
            signing.EVENT_TYPE_HEADER: delivery.event_type,
            signing.DELIVERY_ID_HEADER: str(delivery.id),
        }
        extensions = {"sni_hostname": target.host} if target.url.scheme == "https" else {}
        try:
            response = await self._client.post(
                pinned_request_url(target), content=delivery.body, headers=headers, extensions=extensions
            )
        except httpx.HTTPError as exc:
            return AttemptResult(None, type(exc).__name__)
        if 200 <= response.status_code < 300:
            return AttemptResult(response.status_code, None)
        return AttemptResult(response.status_code, f"HTTP {response.status_code}")

    def retry_delay(self, attempts_made: int) -> float:
        base = self._settings.notification_webhook_backoff_s * 2 ** (attempts_made - 1)
        delay = min(base, self._settings.notification_webhook_backoff_max_s)
        return delay * (1 + random.uniform(0, 0.1))

    async def _settle(
        self, conn: asyncpg.Connection, delivery: repo.DueDelivery, result: AttemptResult
    ) -> Notice | None:
        """Record the outcome; the owner's notice when the endpoint was disabled (else ``None``)."""
        if result.ok:
            assert result.status_code is not None
            await repo.mark_delivered(conn, delivery, result.status_code)
            metrics.WEBHOOK_ATTEMPTS.labels("delivered").inc()
            return None
        error = result.error or "failed"
        made = delivery.attempts + 1
        if not result.permanent and made < self._settings.notification_webhook_max_attempts:
            await repo.mark_retry(conn, delivery, result.status_code, error, self.retry_delay(made))
            metrics.WEBHOOK_ATTEMPTS.labels("failed").inc()
            return None
        metrics.WEBHOOK_ATTEMPTS.labels("refused" if result.permanent else "dead_lettered").inc()
        in_a_row = await repo.mark_dead(conn, delivery, result.status_code, error)
        if in_a_row < self._settings.notification_webhook_disable_after:
            return None
        return await self._disable(conn, delivery, in_a_row)

    async def _disable(
        self, conn: asyncpg.Connection, delivery: repo.DueDelivery, in_a_row: int
    ) -> Notice | None:
        reason = f"{in_a_row} deliveries in a row failed"
        if not await repo.disable_endpoint(conn, delivery.endpoint_id, reason):
            return None
        metrics.ENDPOINTS_DISABLED.inc()
        message = f"Your webhook endpoint {delivery.url} was disabled: {reason}."
        data = {"endpoint_id": str(delivery.endpoint_id), "url": delivery.url, "reason": reason}
        notice_id = await repo.add_notice(conn, delivery.user_id, "webhook_disabled", message, data)
        log.warning("webhook endpoint disabled", extra={"endpoint_id": str(delivery.endpoint_id)})
        return personal_notice(delivery.user_id, "webhook_disabled", message, data, str(notice_id))
