"""Layer 2 of the cascade: sector momentum, rotation probability and the allocation conditioned on
Layer 1, as a service on the layer-service kit (``cp_layer_kit``)."""

from pathlib import Path

#: The PostgreSQL schema the service owns (also its model registry's, see cp_models.registry.layers).
SCHEMA = "layer2_sector"
MIGRATIONS_DIR = Path(__file__).resolve().parents[1] / "migrations"
