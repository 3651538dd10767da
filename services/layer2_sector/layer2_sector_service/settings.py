"""Configuration of the Layer 2 service: the layer kit's settings (``LAYER_*``)."""

from __future__ import annotations

from pydantic import Field

from cp_layer_kit import LayerSettings


class Layer2Settings(LayerSettings):
    service_name: str = "layer2-sector"
    #: Members listed as a sector's top performers in ``/sectors/{id}``.
    layer2_top_performers: int = Field(default=5, ge=1, le=50)
