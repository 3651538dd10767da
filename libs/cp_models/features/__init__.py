"""Point-in-time features: market-wide, sector and per-asset, plus L4 sequence channels.

``compute_features(data)`` computes everything once; every value at day ``t`` uses data up
to the close of ``t`` only (proved for every feature by ``features.lookahead``).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from cp_models.data import MarketData
from cp_models.features.asset import ASSET_FEATURES, compute_asset_features
from cp_models.features.common import FeatureFrames
from cp_models.features.lookahead import FeatureFn
from cp_models.features.market import MARKET_FEATURES, compute_market_features
from cp_models.features.sector import SECTOR_FEATURES, compute_sector_features
from cp_models.features.sequence import SEQUENCE_CHANNELS, compute_sequence_channels

ALL_FEATURE_DOCS: dict[str, dict[str, str]] = {
    "market": MARKET_FEATURES,
    "sector": SECTOR_FEATURES,
    "asset": ASSET_FEATURES,
    "sequence": SEQUENCE_CHANNELS,
}


@dataclass(frozen=True)
class FeatureSet:
    market: pd.DataFrame
    sector: FeatureFrames
    asset: FeatureFrames
    sequence: FeatureFrames


def compute_features(data: MarketData) -> FeatureSet:
    return FeatureSet(
        market=compute_market_features(data),
        sector=compute_sector_features(data),
        asset=compute_asset_features(data),
        sequence=compute_sequence_channels(data),
    )


def feature_groups() -> dict[str, FeatureFn]:
    """Group name -> function(MarketData) returning named feature frames (for the lookahead harness)."""
    return {
        "market": lambda d: {c: s.to_frame() for c, s in compute_market_features(d).items()},
        "sector": compute_sector_features,
        "asset": compute_asset_features,
        "sequence": compute_sequence_channels,
    }


__all__ = ["ALL_FEATURE_DOCS", "FeatureSet", "compute_features", "feature_groups"]
