"""Prometheus RED metrics for gRPC servers and clients.

Python's gRPC OpenTelemetry instrumentation emits no metrics, so the interceptors in
:mod:`cp_common.grpc.server_interceptors` and :mod:`cp_common.grpc.client_interceptors` record
these. Label values are bounded: the service and method come from registered method names,
``grpc_code`` from the status code enum.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

from cp_common.metrics import LATENCY_BUCKETS

_RPC_LABELS = ("grpc_service", "grpc_method")

SERVER_STARTED = Counter("grpc_server_started_total", "RPCs started on the server", _RPC_LABELS)
SERVER_HANDLED = Counter(
    "grpc_server_handled_total",
    "RPCs completed on the server, by status code",
    (*_RPC_LABELS, "grpc_code"),
)
SERVER_HANDLING_SECONDS = Histogram(
    "grpc_server_handling_seconds",
    "Time from an RPC's start to its completion on the server",
    _RPC_LABELS,
    buckets=LATENCY_BUCKETS,
)

CLIENT_STARTED = Counter("grpc_client_started_total", "RPCs started by clients", _RPC_LABELS)
CLIENT_HANDLED = Counter(
    "grpc_client_handled_total",
    "RPCs completed by clients, by status code",
    (*_RPC_LABELS, "grpc_code"),
)
CLIENT_HANDLING_SECONDS = Histogram(
    "grpc_client_handling_seconds",
    "Time from an RPC's start to its completion as seen by the client",
    _RPC_LABELS,
    buckets=LATENCY_BUCKETS,
)


def split_method(full_method: str | bytes) -> tuple[str, str]:
    """``"/pkg.Service/Method"`` -> ``("pkg.Service", "Method")``."""
    if isinstance(full_method, bytes):
        full_method = full_method.decode()
    service, _, method = full_method.lstrip("/").partition("/")
    return (service or "unknown", method or "unknown")
