"""The L4 timing service as a layer-kit :class:`LayerDefinition`.

On top of the kit (registry model, market read model, stored runs, per-user limits): the
signal store, the outcome tracker chained after the kit's ``market.candles.v1`` handler, paper
trading and the live record. Produces ``signals.v1`` through the outbox.
"""

from __future__ import annotations

from fastapi import FastAPI

from cp_common import topics
from cp_common.kafka import Subscription
from cp_common.service import build_app
from cp_layer_kit.layer import LayerDefinition, LayerKit, layer_service_spec
from cp_models.layers.l4_timing import TimingModel
from cp_models.training import REGISTRY_NAMES
from layer4_timing_service import MIGRATIONS_DIR, SCHEMA, grpc_api
from layer4_timing_service.api import portfolio, signals
from layer4_timing_service.components import COMPONENTS_KEY, build_components, components_of
from layer4_timing_service.settings import TimingSettings


def _settings(kit: LayerKit) -> TimingSettings:
    if not isinstance(kit.settings, TimingSettings):
        raise TypeError("the L4 timing service needs TimingSettings")
    return kit.settings


async def _started(kit: LayerKit) -> None:
    kit.runtime.extras[COMPONENTS_KEY] = build_components(
        _settings(kit), kit.runtime.require_pool(), reads=kit.reads
    )


def _subscriptions(kit: LayerKit) -> list[Subscription]:
    tracker = components_of(kit.runtime).tracker
    return [Subscription(topics.MARKET_CANDLES.name, topics.MARKET_CANDLES.message_type, tracker.on_candle)]


DEFINITION = LayerDefinition(
    layer=4,
    key="timing",
    name="layer4-timing",
    title="CryptoPredict Layer 4: timing signals",
    schema=SCHEMA,
    migrations_dir=MIGRATIONS_DIR,
    model_name=REGISTRY_NAMES["l4"],
    loader=TimingModel.load,
    grpc_service_name=grpc_api.SERVICE_NAME,
    register_grpc=grpc_api.register,
    routers=[signals.router, portfolio.router],
    produces=[topics.SIGNALS.name],
    subscriptions=_subscriptions,
    on_started=_started,
)
SPEC = layer_service_spec(DEFINITION)


def create_app(settings: TimingSettings) -> FastAPI:
    return build_app(SPEC, settings)
