"""cascade_confidence and the Layer 4 staleness rule."""

from __future__ import annotations

import math

import pytest

from orchestrator_service.confidence import cascade_confidence, geometric_mean, rotation_confidence
from orchestrator_service.layers import MACRO
from orchestrator_service.steps import OK, STALE_FALLBACK, Step, l1_context_too_old


def test_cascade_confidence_is_the_geometric_mean_of_the_rated_layers() -> None:
    value = cascade_confidence({"macro": 0.8, "sector": 0.5, "asset": None, "timing": 0.9})
    assert value == pytest.approx((0.8 * 0.5 * 0.9) ** (1 / 3))
    # one unsure layer pulls the chain down more than an arithmetic mean would
    assert cascade_confidence({"macro": 0.9, "sector": 0.1}) < (0.9 + 0.1) / 2
    assert cascade_confidence({"macro": 0.7}) == pytest.approx(0.7)
    assert cascade_confidence({"asset": None}) == 0.0


def test_geometric_mean_clips_out_of_range_values() -> None:
    assert geometric_mean([1.5, 1.0]) == pytest.approx(1.0)
    assert 0 < geometric_mean([0.0, 1.0]) < 0.01
    assert geometric_mean([math.nan, 0.25]) == pytest.approx(0.25)


def test_rotation_confidence_is_symmetric() -> None:
    assert rotation_confidence(0.2) == pytest.approx(0.8)
    assert rotation_confidence(0.8) == pytest.approx(0.8)
    assert rotation_confidence(0.5) == pytest.approx(0.5)


def test_layer4_is_kept_off_a_degraded_layer1_context_older_than_the_bound() -> None:
    fresh = Step(MACRO, OK, 0.01)
    assert not l1_context_too_old(fresh, 10_000, 60)
    fallback = Step(MACRO, STALE_FALLBACK, 0.01, age_s=50)
    assert not l1_context_too_old(fallback, 5, 60)
    assert l1_context_too_old(fallback, 11, 60)
