"""Prometheus metrics of the layer services; ``layer`` is the layer's key (``macro`` ...)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

from cp_common.metrics import LATENCY_BUCKETS

INFERENCE_SECONDS = Histogram(
    "cp_layer_inference_seconds",
    "Time spent in the layer's model inference per analysis",
    ["layer"],
    buckets=LATENCY_BUCKETS,
)
MODEL_STATUS = Gauge(
    "cp_layer_model_status",
    "1 for the layer model's current status (active, training, inactive, error), else 0",
    ["layer", "model", "status"],
)
MODEL_VERSION = Gauge(
    "cp_layer_model_version", "Version of the model in memory (0: none)", ["layer", "model"]
)
ANALYSES = Counter(
    "cp_layer_analyses_total",
    "Layer analyses by outcome (stored, replayed, refused)",
    ["layer", "outcome"],
)
READ_MODEL_REBUILD_SECONDS = Histogram(
    "cp_layer_read_model_rebuild_seconds",
    "Time to recompute the model inputs from the market read model",
    ["layer"],
    buckets=LATENCY_BUCKETS,
)
READ_MODEL_LAST_DAY = Gauge(
    "cp_layer_read_model_last_day_timestamp_seconds",
    "Latest market day in the read model (Unix time of its open)",
    ["layer"],
)
