"""Layer 3 of the cascade: asset scores, the selection handed to Layer 4 and watchlist
suggestions, as a service on the layer-service kit (``cp_layer_kit``)."""

from pathlib import Path

#: The PostgreSQL schema the service owns (also its model registry's, see cp_models.registry.layers).
SCHEMA = "layer3_asset"
MIGRATIONS_DIR = Path(__file__).resolve().parents[1] / "migrations"
