"""The four layers the cascade calls, in order, and how each is named to users."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LayerInfo:
    number: int
    #: Name used in contexts, runs and the API ("macro", "sector", "asset", "timing").
    key: str

    @property
    def service(self) -> str:
        return f"Layer {self.number} service"

    @property
    def breaker_name(self) -> str:
        return f"layer{self.number}"


MACRO = LayerInfo(1, "macro")
SECTOR = LayerInfo(2, "sector")
ASSET = LayerInfo(3, "asset")
TIMING = LayerInfo(4, "timing")
LAYERS = (MACRO, SECTOR, ASSET, TIMING)
