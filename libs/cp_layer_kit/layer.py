"""A layer service from one :class:`LayerDefinition`: the kit's parts wired into a ``ServiceSpec``.

Start-up (after the shared runtime opened PostgreSQL, Redis, Kafka and the outbox relay): the
registry table (local/test mode), the model's first load, the read model's bootstrap over
ingestion's gRPC and the first build of the inputs. Then the gRPC servicer (its health follows
the model status), the consumers of ``market.candles.v1`` / ``market.snapshots.v1`` (plus the
layer's own), and three background tasks: follow the registry, follow the read model,
re-bootstrap every ``LAYER_MARKET_RESYNC_S``. A bootstrap that fails (ingestion not up yet) is
retried by the last one; until then analysis answers "market data not available yet".
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
from fastapi import APIRouter, Request
from threadpoolctl import threadpool_limits

from cp_common.grpc import GrpcServer
from cp_common.http.read_cache import PreserialisedCache
from cp_common.kafka import Subscription
from cp_common.kafka.consumer import Event, Handler
from cp_common.service import Runtime, ServiceSpec, should_migrate_on_start
from cp_layer_kit.inputs import MarketInputs
from cp_layer_kit.latest import LatestResults
from cp_layer_kit.market.bootstrap import bootstrap
from cp_layer_kit.market.events import market_subscriptions
from cp_layer_kit.market.store import MarketStore
from cp_layer_kit.market.view import MarketView
from cp_layer_kit.model_holder import LoadedModel, ModelHolder
from cp_layer_kit.results import Finalize, PendingResult, ResultStore, StoredResult
from cp_layer_kit.settings import LayerSettings
from cp_models.registry.store import ensure_registry_schema

log = logging.getLogger(__name__)

KIT_KEY = "layer.kit"
BOOTSTRAP_RETRY_S = 5.0


@dataclass(frozen=True)
class LayerDefinition:
    """Everything that differs between layer services."""

    layer: int  # 1..4
    key: str  # "macro", "sector", "asset", "timing": metric label and context key
    name: str  # program name, e.g. "layer1-macro"
    title: str
    schema: str  # also the model registry's schema (cp_models.registry.layers)
    migrations_dir: Path
    model_name: str  # registry name, e.g. "macro_regime_v3"
    loader: Callable[[bytes], Any]
    grpc_service_name: str  # full name, e.g. "cryptopredict.analysis.v1.MacroAnalysisService"
    register_grpc: Callable[[LayerKit, GrpcServer], None]
    routers: Sequence[APIRouter] = ()
    produces: Sequence[str] = ()
    subscriptions: Callable[[LayerKit], Sequence[Subscription]] | None = None
    on_started: Callable[[LayerKit], Awaitable[None]] | None = None
    #: The layer's own background tasks (e.g. Layer 1 refreshing its latest result).
    background: Sequence[Callable[[LayerKit], Awaitable[None]]] = ()


class LayerKit:
    """The live parts of one layer service process (``kit_of(runtime)``, ``layer_kit`` in routes)."""

    def __init__(self, definition: LayerDefinition, runtime: Runtime, settings: LayerSettings) -> None:
        pool = runtime.require_pool()
        self.definition = definition
        self.runtime = runtime
        self.settings = settings
        self.model: ModelHolder[Any] = ModelHolder(
            pool,
            definition.schema,
            layer=definition.layer,
            layer_key=definition.key,
            model_name=definition.model_name,
            loader=definition.loader,
            poll_interval=settings.layer_model_poll_s,
        )
        self.market = MarketStore(pool, definition.schema)
        self.view = MarketView(
            self.market,
            layer_key=definition.key,
            history_days=settings.layer_market_history_days,
            debounce_s=settings.layer_rebuild_debounce_s,
        )
        self.results = ResultStore(pool, definition.schema)
        self.latest = LatestResults(
            runtime.require_redis(),
            self.results,
            prefix=f"{definition.name}:results",
            ttl_s=settings.layer_latest_ttl_s,
        )
        #: Pre-serialised answers of the layer's hot reads (the latest result's views), dropped
        #: whenever this process stores a new result.
        self.reads = PreserialisedCache(ttl_s=settings.layer_read_cache_s)

    @property
    def layer_key(self) -> str:
        return self.definition.key

    # --- what run_analysis needs ------------------------------------------------------
    def require_model(self) -> LoadedModel[Any]:
        return self.model.require()

    def require_inputs(self) -> MarketInputs:
        return self.view.require()

    async def find_result(self, cascade_run_id: str) -> StoredResult | None:
        return await self.results.find(cascade_run_id)

    async def store_result(self, pending: PendingResult, finalize: Finalize | None) -> StoredResult:
        stored = await self.results.store_or_replay(pending, finalize)
        if not stored.replayed:
            await self.latest.invalidate()
            self.reads.invalidate()
        return stored

    # --- the read model -----------------------------------------------------------------
    async def bootstrap_market(self) -> bool:
        target = self.settings.ingestion_grpc_target
        if not target:
            log.warning("INGESTION_GRPC_TARGET is not set: the market read model is fed by events only")
            return False
        try:
            await bootstrap(
                self.market,
                target,
                history_days=self.settings.layer_market_history_days,
                universe_size=self.settings.layer_market_universe_size,
                caller=self.definition.name,
            )
        except Exception as exc:
            log.warning("market bootstrap failed", extra={"error": repr(exc)})
            return False
        return True

    async def resync_market(self) -> None:
        """Background task: bootstrap until it works, then again every resync period."""
        if not self.settings.ingestion_grpc_target:
            return
        ok = self.view.inputs is not None
        while True:
            await asyncio.sleep(self.settings.layer_market_resync_s if ok else BOOTSTRAP_RETRY_S)
            ok = await self.bootstrap_market()


def merge_subscriptions(subscriptions: Sequence[Subscription]) -> list[Subscription]:
    """One subscription per topic: a layer's own handler of a topic the kit also consumes
    (Layer 4's outcome tracker on ``market.candles.v1``) runs after the kit's, in the same
    transaction, so it already sees the candle in the read model."""
    by_topic: dict[str, list[Subscription]] = {}
    for subscription in subscriptions:
        by_topic.setdefault(subscription.topic, []).append(subscription)
    merged = []
    for topic, group in by_topic.items():
        if len(group) == 1:
            merged.append(group[0])
            continue
        if len({s.message_type for s in group}) != 1:
            raise ValueError(f"subscriptions of {topic} disagree on the message type")
        merged.append(Subscription(topic, group[0].message_type, _chained([s.handler for s in group])))
    return merged


def _chained(handlers: list[Handler]) -> Handler:
    async def handle(event: Event, conn: asyncpg.Connection) -> None:
        for handler in handlers:
            await handler(event, conn)

    return handle


def kit_of(runtime: Runtime) -> LayerKit:
    kit = runtime.extras.get(KIT_KEY)
    if not isinstance(kit, LayerKit):
        raise RuntimeError("the layer kit is not started")
    return kit


async def layer_kit(request: Request) -> LayerKit:
    """FastAPI dependency: the kit of the app's runtime (``async``: FastAPI runs a plain ``def``
    dependency in its thread pool, a thread hand-off per request)."""
    return kit_of(request.app.state.runtime)


def _settings(runtime: Runtime) -> LayerSettings:
    if not isinstance(runtime.settings, LayerSettings):
        raise TypeError("a layer service needs settings derived from LayerSettings")
    return runtime.settings


def layer_service_spec(definition: LayerDefinition) -> ServiceSpec:
    async def start(runtime: Runtime) -> None:
        settings = _settings(runtime)
        # process-wide: every model call of this service runs with this many native threads
        threadpool_limits(limits=settings.layer_inference_threads)
        if should_migrate_on_start(settings) and settings.database_url:
            await asyncio.to_thread(ensure_registry_schema, settings.database_url, definition.schema)
        kit = LayerKit(definition, runtime, settings)
        runtime.extras[KIT_KEY] = kit
        runtime.readiness_checks["model"] = kit.model.readiness
        await kit.model.start()
        await kit.bootstrap_market()
        await kit.view.rebuild()  # also from what an earlier run stored when ingestion is down
        if definition.on_started is not None:
            await definition.on_started(kit)

    def grpc(runtime: Runtime, server: GrpcServer) -> None:
        kit = kit_of(runtime)
        definition.register_grpc(kit, server)
        kit.model.attach_grpc(server, definition.grpc_service_name)

    def consumers(runtime: Runtime) -> list[Subscription]:
        kit = kit_of(runtime)
        own = list(definition.subscriptions(kit)) if definition.subscriptions else []
        market = market_subscriptions(kit.market) if kit.settings.layer_consume_market_events else []
        return merge_subscriptions([*market, *own])

    async def follow_model(runtime: Runtime) -> None:
        await kit_of(runtime).model.run()

    async def follow_market(runtime: Runtime) -> None:
        await kit_of(runtime).view.run()

    async def resync(runtime: Runtime) -> None:
        await kit_of(runtime).resync_market()

    def own_task(job: Callable[[LayerKit], Awaitable[None]]) -> Callable[[Runtime], Awaitable[None]]:
        async def task(runtime: Runtime) -> None:
            await job(kit_of(runtime))

        return task

    return ServiceSpec(
        name=definition.name,
        title=definition.title,
        schema=definition.schema,
        migrations_dir=definition.migrations_dir,
        uses_redis=True,
        uses_kafka=True,
        produces=list(definition.produces),
        routers=definition.routers,
        consumers=consumers,
        grpc_services=grpc,
        background_tasks=[follow_model, follow_market, resync, *map(own_task, definition.background)],
        on_startup=start,
    )
