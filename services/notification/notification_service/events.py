"""Kafka handlers: each consumed event becomes a notice on the bus (and, for signals, webhook and
web push deliveries and the active-signal read model).

The handlers run inside the shared consumer's idempotency transaction (the event id is claimed
in ``processed_events`` in the same transaction), and appending to the bus is idempotent per
(event id, notice type), so a redelivered event changes nothing. An event that cannot be a
notice (a signal without id or symbol) is a :class:`PermanentError`: it goes to the DLQ.

Sources: ``signals.v1``, ``analysis.macro.v1`` / ``analysis.sector.v1`` / ``analysis.asset.v1``,
``cascade.runs.v1``, ``watchlist.suggestions.v1`` (every new suggestion, for admins) and the admin
service's ``admin.notifications.v1`` (e.g. high-confidence suggestions).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import asyncpg
import redis.asyncio as aioredis

from cp_common import topics
from cp_common.kafka import Event, PermanentError, Subscription
from cp_common.kafka.consumer import Handler
from notification_service import metrics
from notification_service import repository as repo
from notification_service.bus import EventBus
from notification_service.notices import (
    Notice,
    admin_notice,
    asset_notice,
    cascade_notice,
    macro_notice,
    sector_notice,
    signal_notice,
    suggestion_notice,
)
from notification_service.webpush.payload import push_payload

#: Notice types whose latest data ``dashboard_init`` / ``system_status_init`` show.
SNAPSHOT_TYPES = ("layer1_update", "layer2_update", "cascade_update")


class EventHandlers:
    def __init__(self, bus: EventBus, redis: aioredis.Redis, latest_key: str) -> None:
        self._bus = bus
        self._redis = redis
        self.latest_key = latest_key

    async def publish(self, notice: Notice) -> None:
        added = await self._bus.publish(notice)
        metrics.NOTICES.labels(notice.type, "added" if added else "duplicate").inc()
        if notice.type in SNAPSHOT_TYPES:
            await self._redis.hset(self.latest_key, notice.type, notice.data_json())

    async def latest(self) -> dict[str, object]:
        stored: Any = await self._redis.hgetall(self.latest_key)
        return {key.decode(): json.loads(value) for key, value in stored.items()}

    async def on_signal(self, event: Event, conn: asyncpg.Connection) -> None:
        change = event.message
        signal = change.signal
        if not signal.signal_id or not signal.symbol:
            raise PermanentError("signal without signal_id or symbol")
        notice = signal_notice(change, event.event_id)
        if notice.type == "signal_update":
            await repo.remove_active_signal(conn, signal.signal_id)
        else:
            generated = (
                signal.generated_at.ToDatetime(tzinfo=UTC) if signal.HasField("generated_at") else None
            )
            await repo.upsert_active_signal(
                conn,
                signal.signal_id,
                signal.symbol,
                signal.confidence,
                dict(notice.data),
                generated or datetime.now(UTC),
            )
        payload = {
            "type": notice.type,
            "event_id": event.event_id,
            "timestamp": event.timestamp.isoformat(),
            "data": notice.data,
        }
        delivery = repo.SignalDelivery(event.event_id, notice.type, signal.symbol, signal.confidence)
        await repo.enqueue_signal_deliveries(conn, delivery, payload)
        await repo.enqueue_push_deliveries(conn, delivery, push_payload(payload))
        await self.publish(notice)

    def _simple(self, build: Callable[..., Notice]) -> Handler:
        async def handle(event: Event, conn: asyncpg.Connection) -> None:
            await self.publish(build(event.message, event.event_id))

        return handle

    def subscriptions(self) -> list[Subscription]:
        handlers: dict[str, Handler] = {
            topics.SIGNALS.name: self.on_signal,
            topics.ANALYSIS_MACRO.name: self._simple(macro_notice),
            topics.ANALYSIS_SECTOR.name: self._simple(sector_notice),
            topics.ANALYSIS_ASSET.name: self._simple(asset_notice),
            topics.CASCADE_RUNS.name: self._simple(cascade_notice),
            topics.WATCHLIST_SUGGESTIONS.name: self._simple(suggestion_notice),
            topics.ADMIN_NOTIFICATIONS.name: self._simple(admin_notice),
        }
        return [Subscription(name, topics.message_type(name), fn) for name, fn in handlers.items()]
