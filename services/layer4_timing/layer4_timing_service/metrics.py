"""Prometheus metrics of the L4 timing service (exported on ``/metrics`` with the shared ones;
the model's inference time comes from the layer kit's histogram)."""

from __future__ import annotations

from prometheus_client import Counter

SIGNALS_GENERATED = Counter(
    "layer4_signals_generated_total", "Signals stored (first generation only, not retries)", ["signal_type"]
)
SIGNALS_CLOSED = Counter("layer4_signals_closed_total", "Signals that left the active status", ["status"])
EXECUTIONS = Counter("layer4_paper_executions_total", "Paper executions by outcome", ["outcome"])
