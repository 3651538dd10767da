"""What happened to one layer within a run, and the rule that keeps Layer 4 off stale contexts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from orchestrator_service.layers import LayerInfo

OK = "ok"
#: ``quick``: a fresh stored result was used instead of a call (not a degradation).
REUSED = "reused"
#: The call failed; the layer's last result, younger than the bound, stood in for it.
STALE_FALLBACK = "stale_fallback"
FAILED = "failed"
SKIPPED = "skipped"


@dataclass
class Step:
    layer: LayerInfo
    outcome: str
    #: Wall time of the step inside the cascade (call, retry and fallback lookup), seconds.
    duration_s: float
    confidence: float | None = None
    model_version: str = ""
    error: str = ""
    #: Age of the stored result used (reused / fallback), seconds.
    age_s: float | None = None
    #: The layer's own processing time of the call (its ``LayerRun.total_ms``), milliseconds.
    layer_ms: float = 0.0

    @property
    def degraded(self) -> bool:
        return self.outcome == STALE_FALLBACK

    def as_json(self) -> dict[str, Any]:
        return {
            "layer": self.layer.number,
            "name": self.layer.key,
            "outcome": self.outcome,
            "duration_ms": round(self.duration_s * 1000, 3),
            "layer_ms": round(self.layer_ms, 3),
            "confidence": self.confidence,
            "model_version": self.model_version,
            "error": self.error,
            "age_s": None if self.age_s is None else round(self.age_s, 3),
        }


def l1_context_too_old(macro: Step, elapsed_since_l1_s: float, bound_s: float) -> bool:
    """Layer 4 must not emit from a degraded Layer 1 context older than the fallback bound
    (its age when it was picked up plus the time the cascade has run since)."""
    if not macro.degraded or macro.age_s is None:
        return False
    return macro.age_s + elapsed_since_l1_s > bound_s
