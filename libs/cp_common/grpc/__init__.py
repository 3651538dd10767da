"""gRPC helpers: server with health/reflection/interceptors, client channels, status mapping.

Metrics are in :mod:`cp_common.grpc.metrics`; metadata and trace propagation in
:mod:`cp_common.grpc.propagation`.
"""

from cp_common.grpc.client import DEFAULT_TIMEOUT_SECONDS, create_channel, default_client_interceptors
from cp_common.grpc.server import GrpcServer
from cp_common.grpc.server_interceptors import default_server_interceptors
from cp_common.grpc.status import grpc_status_for, http_status_for, service_error_from_rpc_error

__all__ = [
    "DEFAULT_TIMEOUT_SECONDS",
    "GrpcServer",
    "create_channel",
    "default_client_interceptors",
    "default_server_interceptors",
    "grpc_status_for",
    "http_status_for",
    "service_error_from_rpc_error",
]
