"""The service's parts, built once at start-up and kept in ``runtime.extras``."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg
import httpx
import redis.asyncio as aioredis

from cp_common.http.fleet_health import FleetProbe
from cp_common.security import JwtVerifier
from cp_common.service import Runtime
from notification_service.bus import EventBus
from notification_service.delivery import DeliveryWorker
from notification_service.events import EventHandlers
from notification_service.hub import Hub
from notification_service.settings import NotificationSettings
from notification_service.webhooks.delivery import WebhookChannel
from notification_service.webpush.channel import WebPushChannel
from notification_service.webpush.vapid import VapidKey

COMPONENTS_KEY = "notification"


@dataclass
class NotificationComponents:
    settings: NotificationSettings
    pool: asyncpg.Pool
    redis: aioredis.Redis
    bus: EventBus
    hub: Hub
    handlers: EventHandlers
    webhooks: DeliveryWorker
    webpush: DeliveryWorker
    vapid: VapidKey
    http: httpx.AsyncClient
    fleet: FleetProbe
    runtime: Runtime

    @property
    def verifier(self) -> JwtVerifier | None:
        return self.runtime.verifier


def build_components(runtime: Runtime) -> NotificationComponents:
    settings = runtime.settings
    if not isinstance(settings, NotificationSettings):
        raise TypeError("the notification service needs NotificationSettings")
    pool, redis = runtime.require_pool(), runtime.require_redis()
    bus = EventBus(
        redis, settings.notification_stream_key, max_events=settings.notification_replay_max_events
    )
    http = httpx.AsyncClient(timeout=settings.notification_webhook_timeout_s, follow_redirects=False)
    vapid = VapidKey.from_settings(settings)
    return NotificationComponents(
        settings=settings,
        pool=pool,
        redis=redis,
        bus=bus,
        hub=Hub(bus, redis, replay_max_batch=settings.notification_replay_max_batch),
        handlers=EventHandlers(bus, redis, f"{settings.notification_stream_key}:latest"),
        webhooks=DeliveryWorker(pool, bus, settings, WebhookChannel(settings, http)),
        webpush=DeliveryWorker(pool, bus, settings, WebPushChannel(settings, http, vapid)),
        vapid=vapid,
        http=http,
        fleet=FleetProbe(),
        runtime=runtime,
    )
