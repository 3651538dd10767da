"""``cascade_confidence``: how sure the cascade is of its answer, in [0, 1].

It is the geometric mean of the confidences of the layers that rated something:

* Layer 1: the probability of the regime it chose;
* Layer 2: how sure it is about rotation, ``max(p, 1 - p)`` of its rotation probability;
* Layer 3: the mean confidence of the active assets it handed on (left out when none);
* Layer 4: the mean confidence of the signals it emitted (left out when none).

A geometric mean, so one unsure layer pulls the whole cascade down (the layers are a chain:
a timing call is only as good as the regime it rests on). Each value is clipped to
[``FLOOR``, 1] so a zero does not erase the others' information.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

FLOOR = 1e-6


def geometric_mean(values: Iterable[float]) -> float:
    clipped = [min(1.0, max(FLOOR, v)) for v in values if not math.isnan(v)]
    if not clipped:
        return 0.0
    return math.exp(sum(math.log(v) for v in clipped) / len(clipped))


def mean_or_none(values: Iterable[float]) -> float | None:
    items = list(values)
    return sum(items) / len(items) if items else None


def rotation_confidence(rotation_probability: float) -> float:
    return max(rotation_probability, 1.0 - rotation_probability)


def cascade_confidence(layer_confidences: Mapping[str, float | None]) -> float:
    """Layers mapped to ``None`` had nothing to rate and are left out."""
    return geometric_mean(v for v in layer_confidences.values() if v is not None)
