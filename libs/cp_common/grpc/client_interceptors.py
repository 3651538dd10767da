"""grpc.aio client interceptors: default deadline, context propagation, telemetry.

Recommended order, outermost first (see :func:`cp_common.grpc.client.create_channel`):
:class:`DefaultDeadlineInterceptor`, :class:`ClientTelemetryInterceptor`,
:class:`ContextPropagationInterceptor` — the telemetry span is then current when the
propagation interceptor writes ``traceparent``, so the server's span is its child.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import grpc
import grpc.aio
from opentelemetry import trace

from cp_common.context import CALLER_HEADER, REQUEST_ID_HEADER, caller_var, new_request_id, request_id_var
from cp_common.grpc import metrics
from cp_common.grpc.propagation import trace_metadata

_tracer = trace.get_tracer(__name__)

Continuation = Callable[[grpc.aio.ClientCallDetails, Any], Awaitable[Any]]


def _replace(
    details: grpc.aio.ClientCallDetails,
    *,
    timeout: float | None = None,
    metadata: grpc.aio.Metadata | None = None,
) -> grpc.aio.ClientCallDetails:
    """A copy of ``details`` with the given fields replaced (``None`` keeps the field)."""
    return grpc.aio.ClientCallDetails(
        method=details.method,
        timeout=details.timeout if timeout is None else timeout,
        metadata=details.metadata if metadata is None else metadata,
        credentials=details.credentials,
        wait_for_ready=details.wait_for_ready,
    )


class RpcInterceptor:
    """Base: one :meth:`intercept` for the four RPC kinds.

    ``grpc.aio`` files each interceptor object under ONE call kind only (the first interface it
    implements), so a single object implementing all four would silently skip streaming calls.
    :meth:`grpc_interceptors` therefore hands the channel one adapter per kind.
    """

    async def intercept(
        self, continuation: Continuation, details: grpc.aio.ClientCallDetails, request: Any, *, unary: bool
    ) -> Any:
        raise NotImplementedError

    def grpc_interceptors(self) -> list[grpc.aio.ClientInterceptor]:
        return [
            _UnaryUnaryAdapter(self),
            _UnaryStreamAdapter(self),
            _StreamUnaryAdapter(self),
            _StreamStreamAdapter(self),
        ]


class _UnaryUnaryAdapter(grpc.aio.UnaryUnaryClientInterceptor):
    def __init__(self, interceptor: RpcInterceptor) -> None:
        self.interceptor = interceptor

    async def intercept_unary_unary(
        self, continuation: Continuation, client_call_details: grpc.aio.ClientCallDetails, request: Any
    ) -> Any:
        return await self.interceptor.intercept(continuation, client_call_details, request, unary=True)


class _UnaryStreamAdapter(grpc.aio.UnaryStreamClientInterceptor):
    def __init__(self, interceptor: RpcInterceptor) -> None:
        self.interceptor = interceptor

    async def intercept_unary_stream(
        self, continuation: Continuation, client_call_details: grpc.aio.ClientCallDetails, request: Any
    ) -> Any:
        return await self.interceptor.intercept(continuation, client_call_details, request, unary=False)


class _StreamUnaryAdapter(grpc.aio.StreamUnaryClientInterceptor):
    def __init__(self, interceptor: RpcInterceptor) -> None:
        self.interceptor = interceptor

    async def intercept_stream_unary(
        self, continuation: Continuation, client_call_details: grpc.aio.ClientCallDetails, requests: Any
    ) -> Any:
        return await self.interceptor.intercept(continuation, client_call_details, requests, unary=False)


class _StreamStreamAdapter(grpc.aio.StreamStreamClientInterceptor):
    def __init__(self, interceptor: RpcInterceptor) -> None:
        self.interceptor = interceptor

    async def intercept_stream_stream(
        self, continuation: Continuation, client_call_details: grpc.aio.ClientCallDetails, requests: Any
    ) -> Any:
        return await self.interceptor.intercept(continuation, client_call_details, requests, unary=False)


class DefaultDeadlineInterceptor(RpcInterceptor):
    """Gives every call without a deadline ``timeout_seconds``.

    A call with no deadline can hang forever on a stuck peer; every call gets one. Long-lived
    streams (e.g. health ``Watch``) must pass their own, longer ``timeout``.
    """

    def __init__(self, timeout_seconds: float) -> None:
        if timeout_seconds <= 0:
            raise ValueError("timeout_seconds must be positive")
        self.timeout_seconds = timeout_seconds

    async def intercept(
        self, continuation: Continuation, details: grpc.aio.ClientCallDetails, request: Any, *, unary: bool
    ) -> Any:
        if details.timeout is None:
            details = _replace(details, timeout=self.timeout_seconds)
        return await continuation(details, request)


class ContextPropagationInterceptor(RpcInterceptor):
    """Adds ``x-request-id``, ``x-caller`` and W3C ``traceparent``/``tracestate`` metadata.

    The request id comes from :data:`cp_common.context.request_id_var` (a fresh one when unset);
    the caller from :data:`cp_common.context.caller_var`, else ``default_caller`` (the calling
    service's name). Keys the caller set explicitly are left alone.
    """

    def __init__(self, default_caller: str | None = None) -> None:
        self.default_caller = default_caller

    async def intercept(
        self, continuation: Continuation, details: grpc.aio.ClientCallDetails, request: Any, *, unary: bool
    ) -> Any:
        metadata = grpc.aio.Metadata(*(details.metadata or ()))
        additions: list[tuple[str, str]] = [(REQUEST_ID_HEADER, request_id_var.get() or new_request_id())]
        caller = caller_var.get() or self.default_caller
        if caller:
            additions.append((CALLER_HEADER, caller))
        additions.extend(trace_metadata())
        for key, value in additions:
            if key not in metadata:
                metadata.add(key, value)
        return await continuation(_replace(details, metadata=metadata), request)


class ClientTelemetryInterceptor(RpcInterceptor):
    """Client span plus RED metrics: ``grpc_client_started_total``,
    ``grpc_client_handled_total`` and ``grpc_client_handling_seconds``.

    Unary calls are recorded before the caller gets the response; streaming calls when they
    finish (from a done callback).
    """

    def __init__(self) -> None:
        self._pending: set[asyncio.Task[None]] = set()

    async def intercept(
        self, continuation: Continuation, details: grpc.aio.ClientCallDetails, request: Any, *, unary: bool
    ) -> Any:
        service, method = metrics.split_method(details.method)
        metrics.CLIENT_STARTED.labels(service, method).inc()
        started = time.perf_counter()
        span = _tracer.start_span(
            f"{service}/{method}",
            kind=trace.SpanKind.CLIENT,
            attributes={"rpc.system": "grpc", "rpc.service": service, "rpc.method": method},
        )
        try:
            with trace.use_span(span, end_on_exit=False):
                call = await continuation(details, request)
        except asyncio.CancelledError:
            self._finish(span, service, method, started, grpc.StatusCode.CANCELLED)
            raise
        except Exception:
            self._finish(span, service, method, started, grpc.StatusCode.UNKNOWN)
            raise
        if unary:
            try:
                code = await call.code()
            except asyncio.CancelledError:
                call.cancel()
                self._finish(span, service, method, started, grpc.StatusCode.CANCELLED)
                raise
            self._finish(span, service, method, started, code)
        else:
            call.add_done_callback(lambda done: self._finish_later(done, span, service, method, started))
        return call

    def _finish_later(self, call: Any, span: trace.Span, service: str, method: str, started: float) -> None:
        async def record() -> None:
            try:
                code = await call.code()
            except asyncio.CancelledError:
                code = grpc.StatusCode.CANCELLED
            self._finish(span, service, method, started, code)

        task = asyncio.get_running_loop().create_task(record())
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    @staticmethod
    def _finish(span: trace.Span, service: str, method: str, started: float, code: grpc.StatusCode) -> None:
        metrics.CLIENT_HANDLED.labels(service, method, code.name).inc()
        metrics.CLIENT_HANDLING_SECONDS.labels(service, method).observe(time.perf_counter() - started)
        span.set_attribute("rpc.grpc.status_code", code.value[0])
        if code is not grpc.StatusCode.OK:
            span.set_status(trace.Status(trace.StatusCode.ERROR, code.name))
        span.end()
