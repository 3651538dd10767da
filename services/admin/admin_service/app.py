"""The admin service as a :class:`ServiceSpec`: schema, migrations, routes, consumers, gRPC and
background work.

Start-up (after the shared runtime has migrated the schema and opened PostgreSQL, Redis and
Kafka): build the components (the MarketDataService channel, the watchlist cache, the system
health collector). Consumers: ``watchlist.suggestions.v1`` (the queue), ``users.v1`` (auth's
user administration into the audit log), ``analysis.asset.v1`` and ``cascade.runs.v1`` (read
models). Background work: expire stale suggestions.
"""

from __future__ import annotations

import asyncio
import logging

import asyncpg
from fastapi import FastAPI

from admin_service import MIGRATIONS_DIR, SCHEMA, grpc_api
from admin_service.api import admin, dashboard, suggestions, watchlists
from admin_service.api.deps import COMPONENTS_KEY
from admin_service.components import AdminComponents, build_components
from admin_service.handlers import handlers
from admin_service.settings import AdminSettings
from admin_service.storage import suggestions as suggestion_store
from cp_common import topics
from cp_common.grpc import GrpcServer
from cp_common.kafka.consumer import Subscription, subscriptions_from_registry
from cp_common.service import Runtime, ServiceSpec, build_app

log = logging.getLogger(__name__)


def _settings(runtime: Runtime) -> AdminSettings:
    settings = runtime.settings
    if not isinstance(settings, AdminSettings):
        raise TypeError("the admin service needs AdminSettings")
    return settings


def components_of(runtime: Runtime) -> AdminComponents:
    return runtime.extras[COMPONENTS_KEY]


async def _start(runtime: Runtime) -> None:
    runtime.extras[COMPONENTS_KEY] = build_components(
        _settings(runtime), runtime.require_pool(), runtime.require_redis()
    )


async def _stop(runtime: Runtime) -> None:
    parts = components_of(runtime)
    await parts.market.aclose()
    await parts.performance.aclose()


async def _expire_suggestions(runtime: Runtime) -> None:
    parts = components_of(runtime)
    while True:
        try:
            expired = await suggestion_store.expire_stale(parts.pool)
            if expired:
                log.info("stale suggestions expired", extra={"count": expired})
        except (OSError, asyncpg.PostgresError):
            log.warning("suggestion expiry failed", exc_info=True)
        await asyncio.sleep(parts.settings.admin_expiry_interval_s)


def _consumers(runtime: Runtime) -> list[Subscription]:
    return subscriptions_from_registry(handlers(_settings(runtime)))


def _grpc(runtime: Runtime, server: GrpcServer) -> None:
    grpc_api.register(runtime.require_pool(), server)


SPEC = ServiceSpec(
    name="admin",
    title="CryptoPredict admin",
    schema=SCHEMA,
    migrations_dir=MIGRATIONS_DIR,
    uses_redis=True,
    uses_kafka=True,
    produces=[topics.WATCHLIST_CHANGES.name, topics.SUGGESTION_REVIEWS.name, topics.ADMIN_NOTIFICATIONS.name],
    routers=[watchlists.router, suggestions.router, admin.router, dashboard.router],
    consumers=_consumers,
    grpc_services=_grpc,
    background_tasks=[_expire_suggestions],
    on_startup=_start,
    on_shutdown=_stop,
)


def create_app(settings: AdminSettings) -> FastAPI:
    return build_app(SPEC, settings)
