"""A grpc.aio server with the fleet's standard parts: health, reflection, interceptors,
graceful shutdown.

    server = GrpcServer(port=settings.grpc_port, host="0.0.0.0")
    server.add_servicer(macro_pb2_grpc.add_MacroAnalysisServiceServicer_to_server, servicer,
                        "cryptopredict.macro.v1.MacroAnalysisService")
    await server.start()          # every registered service reports SERVING
    ...
    await server.stop()           # NOT_SERVING first, then drain, then stop with a grace period
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Sequence
from types import TracebackType
from typing import Any

import grpc
import grpc.aio
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1.health import SERVICE_NAME as HEALTH_SERVICE_NAME
from grpc_health.v1.health import aio as health_aio
from grpc_reflection.v1alpha import reflection

from cp_common.grpc.server_interceptors import default_server_interceptors

MAX_MESSAGE_BYTES = 16 * 1024 * 1024

DEFAULT_SERVER_OPTIONS: tuple[tuple[str, Any], ...] = (
    # Two servers must never share a port silently (grpc's default on Linux is SO_REUSEPORT).
    ("grpc.so_reuseport", 0),
    # Accept the keepalive pings our clients send (every 30 s, also when idle) instead of
    # answering them with GOAWAY "too_many_pings".
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.min_ping_interval_without_data_ms", 10_000),
    ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
)

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


class GrpcServer:
    """Owns one ``grpc.aio.Server`` and its health and reflection services.

    ``grace_period`` is how long in-flight RPCs may run once :meth:`stop` begins;
    ``drain_seconds`` is how long the server keeps answering (health says NOT_SERVING) before
    it stops accepting new calls, so load balancers and Kubernetes notice first.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        grace_period: float = 5.0,
        drain_seconds: float = 0.0,
        interceptors: Sequence[grpc.aio.ServerInterceptor] | None = None,
        extra_interceptors: Sequence[grpc.aio.ServerInterceptor] = (),
        options: Iterable[tuple[str, Any]] = (),
        enable_reflection: bool = True,
    ) -> None:
        chosen = list(interceptors) if interceptors is not None else default_server_interceptors()
        self._server = grpc.aio.server(
            interceptors=[*chosen, *extra_interceptors],
            options=[*DEFAULT_SERVER_OPTIONS, *options],
        )
        self.health = health_aio.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self._server)
        self.host = host
        self.requested_port = port
        self.grace_period = grace_period
        self.drain_seconds = drain_seconds
        self.enable_reflection = enable_reflection
        self.port: int | None = None
        self._service_names: list[str] = []
        self._stopping = False

    @property
    def server(self) -> grpc.aio.Server:
        return self._server

    @property
    def service_names(self) -> tuple[str, ...]:
        """Full names of the application services (health and reflection not included)."""
        return tuple(self._service_names)

    @property
    def address(self) -> str:
        """``host:port`` to dial once started."""
        if self.port is None:
            raise RuntimeError("server not started")
        return f"{self.host}:{self.port}"

    def add_servicer(
        self, register: Callable[[Any, grpc.aio.Server], None], servicer: Any, service_name: str
    ) -> None:
        """Register a generated servicer: ``register`` is ``add_XServicer_to_server``."""
        self._ensure_not_started()
        register(servicer, self._server)
        self._service_names.append(service_name)

    def add_generic_handler(self, handler: grpc.GenericRpcHandler, service_name: str) -> None:
        """Register a hand-made handler (e.g. ``grpc.method_handlers_generic_handler``)."""
        self._ensure_not_started()
        self._server.add_generic_rpc_handlers((handler,))
        self._service_names.append(service_name)

    async def start(self) -> int:
        """Bind, start and mark every service SERVING; returns the bound port."""
        self._ensure_not_started()
        if self.enable_reflection:
            reflection.enable_server_reflection(
                (*self._service_names, HEALTH_SERVICE_NAME, reflection.SERVICE_NAME), self._server
            )
        bind = f"{self.host}:{self.requested_port}"
        try:
            port = self._server.add_insecure_port(bind)
        except RuntimeError as exc:
            raise OSError(f"cannot bind gRPC server to {bind}") from exc
        if port == 0:
            raise OSError(f"cannot bind gRPC server to {bind}")
        await self._server.start()
        self.port = port
        for name in ("", *self._service_names):
            await self.health.set(name, SERVING)
        return port

    async def set_serving(self, service_name: str, serving: bool) -> None:
        """Report one service (``""`` = the whole server) as SERVING or NOT_SERVING.

        Ignored once shutdown has begun: everything stays NOT_SERVING then.
        """
        await self.health.set(service_name, SERVING if serving else NOT_SERVING)

    async def stop(self, grace: float | None = None) -> None:
        """Graceful shutdown: NOT_SERVING, drain, refuse new calls, let in-flight ones finish."""
        if self._stopping:
            await self._server.wait_for_termination()
            return
        self._stopping = True
        await self.health.enter_graceful_shutdown()
        if self.drain_seconds > 0:
            await asyncio.sleep(self.drain_seconds)
        await self._server.stop(self.grace_period if grace is None else grace)

    async def wait_for_termination(self) -> None:
        await self._server.wait_for_termination()

    async def __aenter__(self) -> GrpcServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    def _ensure_not_started(self) -> None:
        if self.port is not None or self._stopping:
            raise RuntimeError("the gRPC server is already started")
