"""The orchestrator as a :class:`ServiceSpec`: schema, migrations, routes, gRPC, triggers.

Start-up (after the shared runtime has migrated the schema and opened PostgreSQL, Redis and
Kafka): the layer channels, breakers and the cascade. Consumer: ``market.candles.v1``
(significant moves start a run). Background work: the scheduled cascade.
"""

from __future__ import annotations

from fastapi import FastAPI

from cp_common import topics
from cp_common.grpc import GrpcServer
from cp_common.kafka.consumer import Subscription, subscriptions_from_registry
from cp_common.service import Runtime, ServiceSpec, build_app
from orchestrator_service import MIGRATIONS_DIR, SCHEMA, grpc_api
from orchestrator_service.api import analysis, dashboard
from orchestrator_service.api.deps import COMPONENTS_KEY
from orchestrator_service.components import Components, build_components
from orchestrator_service.settings import OrchestratorSettings
from orchestrator_service.triggers import MoveTrigger, run_schedule


def _settings(runtime: Runtime) -> OrchestratorSettings:
    settings = runtime.settings
    if not isinstance(settings, OrchestratorSettings):
        raise TypeError("the orchestrator needs OrchestratorSettings")
    return settings


def components_of(runtime: Runtime) -> Components:
    return runtime.extras[COMPONENTS_KEY]


async def _start(runtime: Runtime) -> None:
    parts = build_components(_settings(runtime), runtime.require_pool(), runtime.require_redis())
    runtime.extras[COMPONENTS_KEY] = parts
    await parts.cascade.observe_last_completed()


async def _stop(runtime: Runtime) -> None:
    await components_of(runtime).aclose()


def _consumers(runtime: Runtime) -> list[Subscription]:
    return subscriptions_from_registry({topics.MARKET_CANDLES.name: MoveTrigger(components_of(runtime))})


def _grpc(runtime: Runtime, server: GrpcServer) -> None:
    grpc_api.register(components_of(runtime), server)


async def _schedule(runtime: Runtime) -> None:
    await run_schedule(components_of(runtime))


SPEC = ServiceSpec(
    name="orchestrator",
    title="CryptoPredict orchestrator",
    schema=SCHEMA,
    migrations_dir=MIGRATIONS_DIR,
    uses_redis=True,
    uses_kafka=True,
    produces=[topics.CASCADE_RUNS.name],
    routers=[analysis.router, dashboard.router],
    consumers=_consumers,
    grpc_services=_grpc,
    background_tasks=[_schedule],
    on_startup=_start,
    on_shutdown=_stop,
)


def create_app(settings: OrchestratorSettings) -> FastAPI:
    return build_app(SPEC, settings)
