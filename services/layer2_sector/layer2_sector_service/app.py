"""The Layer 2 service: its :class:`LayerDefinition` on the layer-service kit."""

from __future__ import annotations

from fastapi import FastAPI

from cp_common import topics
from cp_common.service import build_app
from cp_layer_kit import LayerDefinition, layer_service_spec
from cp_models.layers.l2_sector import SectorRotationModel
from layer2_sector_service import MIGRATIONS_DIR, SCHEMA, grpc_api
from layer2_sector_service.api import routes
from layer2_sector_service.settings import Layer2Settings

DEFINITION = LayerDefinition(
    layer=2,
    key="sector",
    name="layer2-sector",
    title="CryptoPredict Layer 2: sector rotation",
    schema=SCHEMA,
    migrations_dir=MIGRATIONS_DIR,
    model_name="sector_rotation_v2",
    loader=SectorRotationModel.load,
    grpc_service_name=grpc_api.SERVICE_NAME,
    register_grpc=grpc_api.register,
    routers=[routes.router],
    produces=[topics.ANALYSIS_SECTOR.name],
)
SPEC = layer_service_spec(DEFINITION)


def create_app(settings: Layer2Settings) -> FastAPI:
    return build_app(SPEC, settings)
