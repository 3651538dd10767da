"""The orchestrator's own metrics (breaker state itself is ``circuit_breaker_state{breaker}``).

A cascade run ends ``succeeded``, ``degraded`` (a layer's fresh fallback stood in) or ``failed``;
the first two are *completed* runs (they answered).
"""

from prometheus_client import Counter, Gauge, Histogram

BREAKER_TRANSITIONS = Counter(
    "cp_orchestrator_breaker_transitions_total",
    "Circuit breaker state changes per layer",
    ["layer", "from_state", "to_state"],
)
LAYER_CALLS = Counter(
    "cp_orchestrator_layer_calls_total",
    "Layer calls by outcome (ok, fallback, failed, reused)",
    ["layer", "outcome"],
)
LAYER_SECONDS = Histogram(
    "cp_orchestrator_layer_seconds",
    "Time of one layer step inside a cascade, seconds",
    ["layer"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
CASCADE_RUNS = Counter(
    "cp_orchestrator_runs_total", "Finished cascade runs by status and trigger", ["status", "trigger"]
)
RUN_SECONDS = Histogram(
    "cp_orchestrator_run_seconds",
    "Time of one cascade run from its start to its stored outcome, seconds, by status",
    ["status"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120),
)
LAST_COMPLETED = Gauge(
    "cp_orchestrator_last_completed_run_timestamp_seconds",
    "Unix time the newest completed (succeeded or degraded) cascade run finished; 0 before the first",
)
