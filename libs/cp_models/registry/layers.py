"""Which schema (owning service) holds which layer's models."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LayerModel:
    layer: str  # "l1".."l4", as in cp_models.training.REGISTRY_NAMES
    name: str  # registry name, e.g. "macro_regime_v3"
    schema: str  # the owning service's schema
    #: out-of-sample metric used for automatic promotion, and whether higher is better
    primary_metric: str
    higher_is_better: bool


LAYER_MODELS: tuple[LayerModel, ...] = (
    LayerModel("l1", "macro_regime_v3", "layer1_macro", "balanced_accuracy", True),
    LayerModel("l2", "sector_rotation_v2", "layer2_sector", "rank_ic", True),
    LayerModel("l3", "asset_tier1_v4", "layer3_asset", "rank_ic", True),
    LayerModel("l4", "timing_signals_v5", "layer4_timing", "brier_skill", True),
)

BY_NAME = {m.name: m for m in LAYER_MODELS}
