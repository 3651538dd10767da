"""What every service process shares: resources, start-up order, shutdown order, and the CLI.

A service describes itself with a :class:`ServiceSpec` (its schema and migrations, whether it
uses Redis or Kafka, its consumers, gRPC servicers and background tasks) and builds its app
with :func:`build_app`. :func:`main` gives every service the same command line::

    python -m <package> serve     # default: HTTP + gRPC + consumers + outbox relay
    python -m <package> migrate   # apply migrations and exit (a Kubernetes Job / init step)
    python -m <package> replay-outbox --since 2h   # publish again the events sent since then

Start-up: settings -> migrations (local/test mode, or MIGRATE_ON_START) -> PostgreSQL pool ->
Redis -> Kafka producer, topics, outbox relay -> JWT verifier -> gRPC server -> consumers ->
background tasks. Shutdown runs in reverse, gRPC first marked NOT_SERVING and drained.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import redis.asyncio as aioredis
import uvicorn
from fastapi import APIRouter, FastAPI

from cp_common.cache import create_redis, redis_ready_check
from cp_common.db.migrations import upgrade
from cp_common.db.pool import close_pool, create_pool, pool_ready_check
from cp_common.grpc.server import GrpcServer
from cp_common.http.app import ReadinessCheck, create_app
from cp_common.http.fleet_health import FleetProbe, fleet_health_router
from cp_common.kafka import EventConsumer, EventProducer, OutboxRelay, Subscription, ensure_topics
from cp_common.kafka.replay import BrokerWatch, parse_since, replay_since
from cp_common.logging import configure_logging
from cp_common.security.denylist import TokenDenylist
from cp_common.security.jwt_verifier import JwtVerifier
from cp_common.security.token_cache import cached_verification
from cp_common.settings import ServiceSettings, SettingsError, load_settings

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    """The live resources of one service process, available as ``app.state.runtime``."""

    settings: ServiceSettings
    pool: asyncpg.Pool | None = None
    redis: aioredis.Redis | None = None
    producer: EventProducer | None = None
    verifier: JwtVerifier | None = None
    grpc: GrpcServer | None = None
    extras: dict[str, Any] = field(default_factory=dict)
    #: Long-running tasks watched by readiness and cancelled at shutdown (see :meth:`watch`).
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)
    #: The app's readiness checks; ``on_startup`` may add its own (name -> check).
    readiness_checks: dict[str, ReadinessCheck] = field(default_factory=dict)

    def watch(self, task: asyncio.Task[Any]) -> asyncio.Task[Any]:
        """Put a task the service starts itself in ``on_startup`` (a feed, say) under the same
        rules as ``ServiceSpec.background_tasks``: ``/readyz`` fails once it dies with an error, and it
        is cancelled at shutdown, before the resources it uses close."""
        task.add_done_callback(_log_task_failure)
        self.tasks.append(task)
        return task

    def require_pool(self) -> asyncpg.Pool:
        if self.pool is None:
            raise RuntimeError("this service has no database")
        return self.pool

    def require_redis(self) -> aioredis.Redis:
        if self.redis is None:
            raise RuntimeError("this service has no Redis")
        return self.redis


@dataclass
class ServiceSpec:
    name: str
    title: str
    schema: str | None = None
    migrations_dir: Path | None = None
    uses_redis: bool = False
    uses_kafka: bool = False
    produces: Sequence[str] = ()
    routers: Sequence[APIRouter] = ()
    consumers: Callable[[Runtime], Sequence[Subscription]] | None = None
    consumer_group: str | None = None
    grpc_services: Callable[[Runtime, GrpcServer], None] | None = None
    background_tasks: Sequence[Callable[[Runtime], Awaitable[None]]] = ()
    on_startup: Callable[[Runtime], Awaitable[None]] | None = None
    on_shutdown: Callable[[Runtime], Awaitable[None]] | None = None
    version: str = "0.1.0"


def should_migrate_on_start(settings: ServiceSettings) -> bool:
    flag = os.environ.get("MIGRATE_ON_START")
    if flag is not None:
        return flag.lower() in ("1", "true", "yes")
    return settings.is_local


def _require(value: str | None, variable: str, service: str) -> str:
    if not value:
        raise SettingsError(f"invalid configuration: {variable}: required by {service}")
    return value


async def migrate(spec: ServiceSpec, settings: ServiceSettings) -> None:
    if spec.schema is None or spec.migrations_dir is None:
        return
    url = _require(settings.database_url, "DATABASE_URL", spec.name)
    await asyncio.to_thread(upgrade, url, spec.schema, spec.migrations_dir)


@dataclass
class _Startup:
    """Opens one service's resources in start-up order; ``stack`` closes them in reverse."""

    spec: ServiceSpec
    settings: ServiceSettings
    runtime: Runtime
    stack: contextlib.AsyncExitStack
    checks: dict[str, ReadinessCheck]

    async def database(self) -> None:
        if self.spec.schema is None:
            return
        url = _require(self.settings.database_url, "DATABASE_URL", self.spec.name)
        if should_migrate_on_start(self.settings):
            await migrate(self.spec, self.settings)
        pool = await create_pool(
            url,
            self.spec.schema,
            min_size=self.settings.db_pool_min_size,
            max_size=self.settings.db_pool_max_size,
        )
        self.runtime.pool = pool
        self.stack.push_async_callback(close_pool, pool)
        self.checks["postgres"] = pool_ready_check(pool)

    def redis(self) -> None:
        # A token verifier needs the revocation denylist: no Redis, no verification (fail closed).
        if not (self.spec.uses_redis or self.settings.redis_url or self.settings.jwks_url):
            return
        client = create_redis(_require(self.settings.redis_url, "REDIS_URL", self.spec.name))
        self.runtime.redis = client
        self.stack.push_async_callback(client.aclose)
        self.checks["redis"] = redis_ready_check(client)

    async def kafka(self) -> None:
        if not self.spec.uses_kafka:
            return
        bootstrap = _require(self.settings.kafka_bootstrap_servers, "KAFKA_BOOTSTRAP_SERVERS", self.spec.name)
        producer = EventProducer(
            bootstrap, client_id=self.spec.name, enable_idempotence=self.settings.kafka_enable_idempotence
        )
        await producer.start()
        self.runtime.producer = producer
        self.stack.push_async_callback(producer.stop)
        self.checks["kafka"] = producer.ready
        if self.spec.produces:
            await ensure_topics(bootstrap, self.spec.produces)
        if self.runtime.pool is not None and self.spec.schema is not None:
            produced = list(self.spec.produces)
            relay = OutboxRelay(
                self.runtime.pool,
                producer,
                schema=self.spec.schema,
                broker_watch=(
                    BrokerWatch(bootstrap, client_id=self.spec.name)
                    if self.settings.outbox_broker_watch
                    else None
                ),
                replay_lag_s=self.settings.outbox_replay_lag_s,
                on_broker_loss=lambda: ensure_topics(bootstrap, produced),
            )
            relay.start()
            self.stack.push_async_callback(relay.stop)

    def verifier(self) -> None:
        if not self.settings.jwks_url:
            return
        redis = self.runtime.require_redis()
        cache, listener = cached_verification(redis, self.settings.jwt_cache_seconds)
        verifier = JwtVerifier.from_settings(
            self.settings, is_revoked=TokenDenylist(redis).is_revoked, cache=cache
        )
        self.runtime.verifier = verifier
        self.stack.push_async_callback(verifier.aclose)
        if listener is not None:
            listener.start()
            self.stack.push_async_callback(listener.stop)

    async def hooks(self) -> None:
        if self.spec.on_startup is not None:
            await self.spec.on_startup(self.runtime)
        if self.spec.on_shutdown is not None:
            self.stack.push_async_callback(self.spec.on_shutdown, self.runtime)

    async def grpc(self) -> None:
        if self.spec.grpc_services is None or not self.settings.grpc_port:
            return
        server = GrpcServer(host=self.settings.http_host, port=self.settings.grpc_port)
        self.runtime.grpc = server
        self.spec.grpc_services(self.runtime, server)
        await server.start()
        self.stack.push_async_callback(server.stop)

    async def consumers(self) -> None:
        subscriptions = list(self.spec.consumers(self.runtime)) if self.spec.consumers is not None else []
        if not subscriptions:
            return
        if self.runtime.pool is None or self.runtime.producer is None:
            raise RuntimeError(f"{self.spec.name}: consumers need a database and Kafka")
        bootstrap = self.settings.kafka_bootstrap_servers or ""
        await ensure_topics(bootstrap, [s.topic for s in subscriptions])
        consumer = EventConsumer(
            bootstrap_servers=bootstrap,
            group_id=self.spec.consumer_group or self.spec.name,
            subscriptions=subscriptions,
            pool=self.runtime.pool,
            producer=self.runtime.producer,
            fetch_max_wait_ms=self.settings.kafka_fetch_max_wait_ms,
        )
        task = await consumer.start()
        task.add_done_callback(_log_task_failure)
        self.stack.push_async_callback(consumer.stop)
        self.checks["consumer"] = _consumer_alive_check(task)

    def background_tasks(self) -> None:
        for i, job in enumerate(self.spec.background_tasks):
            task = asyncio.create_task(_until_done(job(self.runtime)), name=f"{self.spec.name}-bg-{i}")
            self.runtime.watch(task)
        if self.runtime.tasks:
            self.checks["background_tasks"] = _tasks_alive_check(self.runtime.tasks)
        # pushed last, so popped first: background work stops before what it uses closes
        self.stack.push_async_callback(_cancel_all, self.runtime.tasks)


@contextlib.asynccontextmanager
async def _open_runtime(
    spec: ServiceSpec, settings: ServiceSettings, checks: dict[str, ReadinessCheck]
) -> AsyncIterator[Runtime]:
    runtime = Runtime(settings=settings, readiness_checks=checks)
    async with contextlib.AsyncExitStack() as stack:
        startup = _Startup(spec, settings, runtime, stack, checks)
        await startup.database()
        startup.redis()
        await startup.kafka()
        startup.verifier()
        await startup.hooks()
        await startup.grpc()
        await startup.consumers()
        startup.background_tasks()
        yield runtime


async def _until_done(job: Awaitable[None]) -> None:
    await job


async def _cancel_all(tasks: list[asyncio.Task[Any]]) -> None:
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task


def _log_task_failure(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("background task died", exc_info=task.exception(), extra={"task": task.get_name()})


def _tasks_alive_check(tasks: list[asyncio.Task[Any]]) -> ReadinessCheck:
    """Readiness fails once a background task (a feed, a scheduler) has died with an error;
    a task that returns normally was a one-shot job. ``tasks`` is read at each check."""

    async def check() -> None:
        dead = [t.get_name() for t in tasks if t.done() and not t.cancelled() and t.exception()]
        if dead:
            raise RuntimeError(f"background task failed: {', '.join(dead)}")

    return check


def _consumer_alive_check(task: asyncio.Task[None]) -> ReadinessCheck:
    """The consumer loop runs until shutdown: once its task has ended, nothing is consumed."""

    async def check() -> None:
        if task.done():
            raise RuntimeError(f"event consumer stopped: {task.get_name()}")

    return check


def build_app(spec: ServiceSpec, settings: ServiceSettings) -> FastAPI:
    checks: dict[str, ReadinessCheck] = {}

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with _open_runtime(spec, settings, checks) as runtime:
            app.state.runtime = runtime
            app.state.jwt_verifier = runtime.verifier
            yield

    return create_app(
        settings,
        title=spec.title,
        version=spec.version,
        # Every service answers the fleet's health, so it outlives any one of them.
        routers=[*spec.routers, fleet_health_router(FleetProbe())],
        readiness_checks=checks,
        lifespan=lifespan,
    )


async def replay_outbox(spec: ServiceSpec, settings: ServiceSettings, args: Sequence[str]) -> int:
    """``replay-outbox --since <time|duration> [--topic T ...]``: queue the outbox rows sent
    since then to be published again by the service's relay (running now or at its next start)."""
    parser = argparse.ArgumentParser(prog=f"{spec.name} replay-outbox")
    parser.add_argument("--since", required=True, help="ISO 8601 time (UTC) or a duration back: 15m, 2h, 7d")
    parser.add_argument("--topic", action="append", default=[], help="only this topic (repeatable)")
    options = parser.parse_args(list(args))
    if spec.schema is None:
        print(f"{spec.name}: has no outbox", file=sys.stderr)
        return 2
    try:
        since = parse_since(options.since)
    except ValueError as exc:
        print(f"{spec.name}: --since: {exc}", file=sys.stderr)
        return 2
    url = _require(settings.database_url, "DATABASE_URL", spec.name)
    pool = await create_pool(url, spec.schema, min_size=1, max_size=1, register_metrics=False)
    try:
        count = await replay_since(pool, since, schema=spec.schema, topics=options.topic or None)
    finally:
        await close_pool(pool)
    print(f"{spec.name}: {count} events queued to be published again (sent since {since.isoformat()})")
    return 0


def main(
    spec: ServiceSpec,
    settings_model: type[ServiceSettings] = ServiceSettings,
    argv: Sequence[str] | None = None,
) -> int:
    """The command line of every service: ``serve`` (default), ``migrate`` or ``replay-outbox``."""
    args = list(sys.argv[1:] if argv is None else argv)
    command = args[0] if args else "serve"
    try:
        settings = load_settings(settings_model)
    except SettingsError as exc:
        print(f"{spec.name}: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.service_name, settings.log_level)
    if command == "migrate":
        asyncio.run(migrate(spec, settings))
        log.info("migrations applied", extra={"schema": spec.schema})
        return 0
    if command == "replay-outbox":
        return asyncio.run(replay_outbox(spec, settings, args[1:]))
    if command != "serve":
        usage = f"usage: python -m {spec.name.replace('-', '_')}_service [serve|migrate|replay-outbox]"
        print(usage, file=sys.stderr)
        return 2
    app = build_app(spec, settings)
    app.state.freeze_heap_after_start = True
    uvicorn.run(
        app,
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        timeout_graceful_shutdown=10,
        # Longer than the gateway's idle upstream connections live (nginx: 60 s), so a request
        # never goes out on a connection uvicorn is closing (uvicorn's default is 5 s).
        timeout_keep_alive=75,
        access_log=False,
        proxy_headers=True,
        forwarded_allow_ips="127.0.0.1",
    )
    return 0
