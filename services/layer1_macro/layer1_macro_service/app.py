"""The Layer 1 service: its :class:`LayerDefinition` on the layer-service kit."""

from __future__ import annotations

from fastapi import FastAPI

from cp_common import topics
from cp_common.service import build_app
from cp_layer_kit import LayerDefinition, layer_service_spec
from cp_models.layers.l1_macro import MacroRegimeModel
from layer1_macro_service import MIGRATIONS_DIR, SCHEMA, grpc_api
from layer1_macro_service.api import routes
from layer1_macro_service.refresh import keep_latest_current
from layer1_macro_service.settings import Layer1Settings

DEFINITION = LayerDefinition(
    layer=1,
    key="macro",
    name="layer1-macro",
    title="CryptoPredict Layer 1: macro regime",
    schema=SCHEMA,
    migrations_dir=MIGRATIONS_DIR,
    model_name="macro_regime_v3",
    loader=MacroRegimeModel.load,
    grpc_service_name=grpc_api.SERVICE_NAME,
    register_grpc=grpc_api.register,
    routers=[routes.router],
    produces=[topics.ANALYSIS_MACRO.name],
    background=[keep_latest_current],
)
SPEC = layer_service_spec(DEFINITION)


def create_app(settings: Layer1Settings) -> FastAPI:
    return build_app(SPEC, settings)
