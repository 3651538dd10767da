"""The Layer 3 service: its :class:`LayerDefinition` on the layer-service kit."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import FastAPI

from cp_common import topics
from cp_common.kafka import Subscription
from cp_common.service import build_app
from cp_layer_kit import LayerDefinition, LayerKit, layer_service_spec
from cp_models.layers.l3_asset import AssetSelectionModel
from layer3_asset_service import MIGRATIONS_DIR, SCHEMA, grpc_api
from layer3_asset_service.api import routes
from layer3_asset_service.settings import Layer3Settings
from layer3_asset_service.suggestions import on_review


def _subscriptions(kit: LayerKit) -> Sequence[Subscription]:
    reviews = topics.SUGGESTION_REVIEWS
    return [Subscription(reviews.name, reviews.message_type, on_review)]


DEFINITION = LayerDefinition(
    layer=3,
    key="asset",
    name="layer3-asset",
    title="CryptoPredict Layer 3: asset selection",
    schema=SCHEMA,
    migrations_dir=MIGRATIONS_DIR,
    model_name="asset_tier1_v4",
    loader=AssetSelectionModel.load,
    grpc_service_name=grpc_api.SERVICE_NAME,
    register_grpc=grpc_api.register,
    routers=[routes.router],
    produces=[topics.ANALYSIS_ASSET.name, topics.WATCHLIST_SUGGESTIONS.name],
    subscriptions=_subscriptions,
)
SPEC = layer_service_spec(DEFINITION)


def create_app(settings: Layer3Settings) -> FastAPI:
    return build_app(SPEC, settings)
