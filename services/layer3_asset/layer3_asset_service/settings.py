"""Configuration of the Layer 3 service: the layer kit's settings plus ``LAYER3_*`` variables.

Until the admin service owns the watchlists, requests without tier sets use the configured
default liquid universe.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import NoDecode

from cp_layer_kit import LayerSettings
from cp_layer_kit.analysis import check_symbols

DEFAULT_TIER1 = "BTC,ETH,BNB,SOL,XRP,ADA,AVAX,LINK,DOT,DOGE"
DEFAULT_TIER2 = "LTC,BCH,UNI,ATOM,XLM,ETC,AAVE,TRX,MATIC,SHIB"


def _symbols(value: object) -> object:
    if isinstance(value, str):
        return [s.strip().upper() for s in value.split(",") if s.strip()]
    return value


class Layer3Settings(LayerSettings):
    service_name: str = "layer3-asset"
    #: Tier-1 / tier-2 watchlist used when a request brings none.
    layer3_default_tier1: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: DEFAULT_TIER1.split(",")
    )
    layer3_default_tier2: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: DEFAULT_TIER2.split(",")
    )
    #: At most this many assets go on to Layer 4 (the cascade's tier-1 size).
    layer3_max_selected: int = Field(default=10, ge=1, le=100)
    #: An open suggestion is not proposed again until reviewed or this many days old.
    layer3_suggestion_reopen_days: float = Field(default=7.0, gt=0)

    _split = field_validator("layer3_default_tier1", "layer3_default_tier2", mode="before")(_symbols)

    @field_validator("layer3_default_tier1", "layer3_default_tier2")
    @classmethod
    def _valid(cls, value: list[str]) -> list[str]:
        return check_symbols(value, "tier")
