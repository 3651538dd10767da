"""Configuration of the Layer 1 service: the layer kit's settings plus ``LAYER1_*`` variables."""

from __future__ import annotations

from pydantic import Field

from cp_layer_kit import LayerSettings


class Layer1Settings(LayerSettings):
    service_name: str = "layer1-macro"
    #: TTL of the cached sentiment read (seed: 180 s).
    layer1_sentiment_ttl_s: float = Field(default=180.0, gt=0)
    #: Analyse the latest market day on its own (without a cascade run) whenever a new daily
    #: candle or snapshot arrives or a model is activated, so /market-regime is current.
    layer1_refresh_latest: bool = True
    #: How often the refresh checks whether the latest day has been analysed by the active model.
    layer1_refresh_interval_s: float = Field(default=5.0, gt=0)
