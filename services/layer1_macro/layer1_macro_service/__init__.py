"""Layer 1 of the cascade: the macro market regime, risk level and recommended exposure, as a
service on the layer-service kit (``cp_layer_kit``)."""

from pathlib import Path

#: The PostgreSQL schema the service owns (also its model registry's, see cp_models.registry.layers).
SCHEMA = "layer1_macro"
MIGRATIONS_DIR = Path(__file__).resolve().parents[1] / "migrations"
