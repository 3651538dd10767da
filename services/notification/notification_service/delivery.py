"""The delivery worker every outgoing channel shares (webhooks, web push).

Due deliveries are leased (``FOR UPDATE SKIP LOCKED`` + a lease time) so no two replicas send
one, attempted through the channel, and every attempt is recorded. A failed attempt is retried
after ``backoff * 2**(n-1)`` seconds (capped, with a little jitter); after ``max_attempts`` the
delivery moves to the dead letter (status ``dead``). A permanent failure (the address policy
refused the target) is dead-lettered at once; a target that is gone for good (a push service's
404/410) is dead-lettered and removed by its channel. Attempts, backoff, poll period and batch
size are the ``NOTIFICATION_WEBHOOK_*`` settings for every channel.

Channels connect to the address the policy checked (:func:`post_pinned`): the Host header and
TLS SNI keep the name, so a DNS answer that changes after the check cannot redirect a delivery.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

import asyncpg
import httpx
from prometheus_client import Counter, Histogram

from notification_service import repository as repo
from notification_service.bus import EventBus
from notification_service.notices import Notice
from notification_service.settings import NotificationSettings
from notification_service.webhooks import addresses

log = logging.getLogger(__name__)

#: A lease longer than one attempt can take (timeout plus bookkeeping).
LEASE_MARGIN_S = 30.0


@dataclass(frozen=True)
class AttemptResult:
    status_code: int | None
    error: str | None
    #: Retrying cannot help (the address policy refused the target).
    permanent: bool = False
    #: The target no longer exists (a push subscription the push service expired).
    gone: bool = False

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class Channel(Protocol):
    """What differs between channels: which deliveries are theirs, how one is sent, and what
    happens to the target after a dead letter or when it is gone."""

    attempts: Counter
    seconds: Histogram

    async def claim(self, pool: asyncpg.Pool, *, limit: int, lease_s: float) -> list[repo.DueDelivery]: ...

    async def attempt(self, delivery: repo.DueDelivery) -> AttemptResult: ...

    async def after_dead(
        self, conn: asyncpg.Connection, delivery: repo.DueDelivery, in_a_row: int
    ) -> Notice | None: ...

    async def on_gone(self, conn: asyncpg.Connection, delivery: repo.DueDelivery) -> None: ...


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


async def post_pinned(
    client: httpx.AsyncClient, target: addresses.Target, content: bytes, headers: Mapping[str, str]
) -> AttemptResult:
    """POST ``content`` to the checked address of ``target``; redirects are not followed."""
    extensions = {"sni_hostname": target.host} if target.url.scheme == "https" else {}
    try:
        response = await client.post(
            pinned_request_url(target),
            content=content,
            headers={**headers, "Host": host_header(target)},
            extensions=extensions,
        )
    except httpx.HTTPError as exc:
        return AttemptResult(None, type(exc).__name__)
    if 200 <= response.status_code < 300:
        return AttemptResult(response.status_code, None)
    return AttemptResult(response.status_code, f"HTTP {response.status_code}")


class DeliveryWorker:
    def __init__(
        self, pool: asyncpg.Pool, bus: EventBus, settings: NotificationSettings, channel: Channel
    ) -> None:
        self._pool = pool
        self._bus = bus
        self._settings = settings
        self.channel = channel

    async def run_forever(self) -> None:
        while True:
            try:
                handled = await self.run_once()
            except (OSError, asyncpg.PostgresError) as exc:
                log.warning("delivery worker round failed", extra={"error": repr(exc)})
                handled = 0
            if handled == 0:
                await asyncio.sleep(self._settings.notification_webhook_poll_s)

    async def run_once(self) -> int:
        lease = self._settings.notification_webhook_timeout_s + LEASE_MARGIN_S
        due = await self.channel.claim(
            self._pool, limit=self._settings.notification_webhook_batch, lease_s=lease
        )
        await asyncio.gather(*(self._deliver(delivery) for delivery in due))
        return len(due)

    async def _deliver(self, delivery: repo.DueDelivery) -> None:
        started = time.perf_counter()
        result = await self.channel.attempt(delivery)
        elapsed = time.perf_counter() - started
        self.channel.seconds.observe(elapsed)
        async with self._pool.acquire() as conn, conn.transaction():
            await repo.record_attempt(
                conn, delivery.id, delivery.attempts + 1, result.status_code, result.error, elapsed * 1000
            )
            told = await self._settle(conn, delivery, result)
        if told is not None:
            await self._bus.publish(told)

    def retry_delay(self, attempts_made: int) -> float:
        base = self._settings.notification_webhook_backoff_s * 2 ** (attempts_made - 1)
        delay = min(base, self._settings.notification_webhook_backoff_max_s)
        return delay * (1 + random.uniform(0, 0.1))

    async def _settle(
        self, conn: asyncpg.Connection, delivery: repo.DueDelivery, result: AttemptResult
    ) -> Notice | None:
        """Record the outcome; a notice for the owner when the channel has one (else ``None``)."""
        if result.ok:
            assert result.status_code is not None
            await repo.mark_delivered(conn, delivery, result.status_code)
            self.channel.attempts.labels("delivered").inc()
            return None
        error = result.error or "failed"
        made = delivery.attempts + 1
        if result.gone:
            self.channel.attempts.labels("gone").inc()
            await repo.mark_dead(conn, delivery, result.status_code, f"gone: {error}")
            await self.channel.on_gone(conn, delivery)
            return None
        if not result.permanent and made < self._settings.notification_webhook_max_attempts:
            await repo.mark_retry(conn, delivery, result.status_code, error, self.retry_delay(made))
            self.channel.attempts.labels("failed").inc()
            return None
        self.channel.attempts.labels("refused" if result.permanent else "dead_lettered").inc()
        in_a_row = await repo.mark_dead(conn, delivery, result.status_code, error)
        return await self.channel.after_dead(conn, delivery, in_a_row)
