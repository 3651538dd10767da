"""The notification service as a :class:`ServiceSpec`.

Start-up (after the shared runtime has migrated the schema and opened PostgreSQL, Redis, Kafka
and the JWT verifier): build the components. Consumers (one group shared by all replicas):
signals, the layers' analyses, cascade runs, new suggestions and admin notifications, each
turned into notices on the Redis stream bus. Background work on every replica: the hub's
dispatcher (stream -> its WebSockets), heartbeats, revocation checks, the delivery workers
(webhooks, web push).
Shutdown closes every WebSocket with 1001 (going away) so clients reconnect elsewhere.
"""

from __future__ import annotations

from dataclasses import replace

from fastapi import FastAPI

from cp_common.kafka import Subscription
from cp_common.service import Runtime, ServiceSpec, build_app
from notification_service import MIGRATIONS_DIR, SCHEMA
from notification_service.api import notifications, ws
from notification_service.components import COMPONENTS_KEY, NotificationComponents, build_components
from notification_service.connection import CloseCode
from notification_service.settings import NotificationSettings


def _components(runtime: Runtime) -> NotificationComponents:
    found: NotificationComponents = runtime.extras[COMPONENTS_KEY]
    return found


async def _start(runtime: Runtime) -> None:
    runtime.extras[COMPONENTS_KEY] = build_components(runtime)


async def _stop(runtime: Runtime) -> None:
    components = _components(runtime)
    components.hub.close_all(CloseCode.GOING_AWAY, "server going away")
    await components.http.aclose()


def _consumers(runtime: Runtime) -> list[Subscription]:
    return _components(runtime).handlers.subscriptions()


async def _dispatch(runtime: Runtime) -> None:
    await _components(runtime).hub.dispatch_forever()


async def _heartbeats(runtime: Runtime) -> None:
    components = _components(runtime)
    await components.hub.heartbeat_forever(components.settings.notification_ws_heartbeat_s)


async def _revocations(runtime: Runtime) -> None:
    components = _components(runtime)
    await components.hub.check_revocations_forever(components.settings.notification_ws_revocation_check_s)


async def _webhooks(runtime: Runtime) -> None:
    await _components(runtime).webhooks.run_forever()


async def _webpush(runtime: Runtime) -> None:
    await _components(runtime).webpush.run_forever()


SPEC = ServiceSpec(
    name="notification",
    title="CryptoPredict notifications",
    schema=SCHEMA,
    migrations_dir=MIGRATIONS_DIR,
    uses_redis=True,
    uses_kafka=True,
    routers=[ws.router, notifications.router],
    consumers=_consumers,
    background_tasks=[_dispatch, _heartbeats, _revocations, _webhooks, _webpush],
    on_startup=_start,
    on_shutdown=_stop,
)


def create_app(settings: NotificationSettings, *, consumer_group: str | None = None) -> FastAPI:
    """The app; ``consumer_group`` overrides the shared group (tests give each run its own)."""
    spec = replace(SPEC, consumer_group=consumer_group) if consumer_group else SPEC
    return build_app(spec, settings)
