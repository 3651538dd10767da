"""Channel factory for calling other services over gRPC.

channel = create_channel("layer1-macro:50051", caller="orchestrator")
stub = macro_pb2_grpc.MacroAnalysisServiceStub(channel)
try:
    reply = await stub.GetRegime(request)          # default deadline applies
except grpc.aio.AioRpcError as exc:
    raise service_error_from_rpc_error(exc, service="Layer 1 service") from exc
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, TypeAlias

import grpc.aio

from cp_common.grpc.client_interceptors import (
    ClientTelemetryInterceptor,
    ContextPropagationInterceptor,
    DefaultDeadlineInterceptor,
    RpcInterceptor,
)
from cp_common.grpc.server import MAX_MESSAGE_BYTES

#: Deadline for calls that set none; override per channel or per call (``timeout=``).
DEFAULT_TIMEOUT_SECONDS = 5.0

DEFAULT_CHANNEL_OPTIONS: tuple[tuple[str, Any], ...] = (
    # Detect dead peers (a pod gone without a FIN) within ~40 s, also between calls.
    ("grpc.keepalive_time_ms", 30_000),
    ("grpc.keepalive_timeout_ms", 10_000),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.max_pings_without_data", 0),
    ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
)

#: Our all-kinds interceptors or plain grpc.aio ones.
AnyClientInterceptor: TypeAlias = RpcInterceptor | grpc.aio.ClientInterceptor


def default_client_interceptors(
    *, default_timeout: float = DEFAULT_TIMEOUT_SECONDS, caller: str | None = None
) -> list[RpcInterceptor]:
    """Deadline, then telemetry, then metadata propagation (outermost first)."""
    return [
        DefaultDeadlineInterceptor(default_timeout),
        ClientTelemetryInterceptor(),
        ContextPropagationInterceptor(caller),
    ]


def create_channel(
    target: str,
    *,
    caller: str | None = None,
    default_timeout: float = DEFAULT_TIMEOUT_SECONDS,
    options: Iterable[tuple[str, Any]] = (),
    interceptors: Sequence[AnyClientInterceptor] | None = None,
    extra_interceptors: Sequence[AnyClientInterceptor] = (),
) -> grpc.aio.Channel:
    """An insecure ``grpc.aio`` channel (gRPC ports are cluster-internal) with keepalive and
    the standard interceptors. ``caller`` is this service's name, sent as ``x-caller`` when
    the request context has none. Close it with ``await channel.close()``.
    """
    chosen: list[AnyClientInterceptor] = (
        list(interceptors)
        if interceptors is not None
        else list(default_client_interceptors(default_timeout=default_timeout, caller=caller))
    )
    return grpc.aio.insecure_channel(
        target,
        options=[*DEFAULT_CHANNEL_OPTIONS, *options],
        interceptors=expand_interceptors([*chosen, *extra_interceptors]),
    )


def expand_interceptors(interceptors: Sequence[AnyClientInterceptor]) -> list[grpc.aio.ClientInterceptor]:
    """What ``grpc.aio`` channels accept: our interceptors become one adapter per call kind."""
    expanded: list[grpc.aio.ClientInterceptor] = []
    for interceptor in interceptors:
        if isinstance(interceptor, RpcInterceptor):
            expanded.extend(interceptor.grpc_interceptors())
        else:
            expanded.append(interceptor)
    return expanded
