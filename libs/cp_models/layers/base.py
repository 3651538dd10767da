"""Serialization of trained layer models to bytes (for the model registry) and back.

Artifacts are pickled model objects (scikit-learn estimators inside; the L4 network is kept
as a ``state_dict`` saved with ``torch.save`` into bytes). Only load artifacts produced by
this project's training (pickle executes code from the artifact).
"""

from __future__ import annotations

import io
import pickle
from typing import Any, TypeVar

import numpy as np

T = TypeVar("T")

ARTIFACT_FORMAT = 1


def to_bytes(obj: Any) -> bytes:
    buf = io.BytesIO()
    pickle.dump({"format": ARTIFACT_FORMAT, "kind": type(obj).__name__, "model": obj}, buf, protocol=5)
    return buf.getvalue()


def from_bytes(blob: bytes, cls: type[T]) -> T:
    payload = pickle.loads(blob)  # noqa: S301 - artifacts come from this project's own training
    if payload.get("format") != ARTIFACT_FORMAT or payload.get("kind") != cls.__name__:
        raise ValueError(
            f"artifact is a {payload.get('kind')!r} (format {payload.get('format')}), not {cls.__name__}"
        )
    model = payload["model"]
    if not isinstance(model, cls):
        raise ValueError(f"artifact does not hold a {cls.__name__}")
    return model


def top_contributions(values: dict[str, float], k: int = 5) -> list[tuple[str, float]]:
    return sorted(values.items(), key=lambda kv: -abs(kv[1]))[:k]


def fill_unobserved(X: np.ndarray) -> np.ndarray:
    """Columns without a single observed value in a training window (e.g. Fear & Greed before
    2018) become 0: a constant a tree never splits on, instead of a column the gradient
    boosting binner cannot handle. Partly observed columns keep their NaN (native handling)."""
    empty = ~np.isfinite(X).any(axis=0)
    if not empty.any():
        return X
    out = X.copy()
    out[:, empty] = 0.0
    return out
