"""grpc.aio server interceptors: request context, RED metrics, error mapping.

Each interceptor wraps every method handler in an async context manager (see
:func:`wrap_method_handler`), which works the same for the four RPC kinds, whether a streaming
handler is an async generator or writes with ``context.write``. Handlers must be ``async``.
Recommended order, outermost first: :class:`RequestContextInterceptor`,
:class:`ServerMetricsInterceptor`, :class:`ErrorMappingInterceptor`
(:func:`default_server_interceptors`).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager, suppress
from typing import Any

import grpc
import grpc.aio
from opentelemetry import trace

from cp_common.context import caller_var, new_request_id, request_id_var
from cp_common.errors import ServiceError
from cp_common.grpc import metrics
from cp_common.grpc.propagation import (
    caller_from,
    extract_trace_context,
    metadata_to_dict,
    request_id_from,
)
from cp_common.grpc.status import grpc_status_for

logger = logging.getLogger(__name__)
_tracer = trace.get_tracer(__name__)

#: What an internal failure looks like to the caller: no exception text, no stack.
INTERNAL_ERROR_MESSAGE = "internal error"

Around = Callable[[grpc.aio.ServicerContext], AbstractAsyncContextManager[None]]


def wrap_method_handler(handler: grpc.RpcMethodHandler, around: Around) -> grpc.RpcMethodHandler:
    """A copy of ``handler`` whose behaviour runs inside ``around(context)``."""
    factory: Callable[..., grpc.RpcMethodHandler]
    behavior: Callable[..., Any]
    if handler.unary_unary:
        factory, behavior = grpc.unary_unary_rpc_method_handler, handler.unary_unary
    elif handler.unary_stream:
        factory, behavior = grpc.unary_stream_rpc_method_handler, handler.unary_stream
    elif handler.stream_unary:
        factory, behavior = grpc.stream_unary_rpc_method_handler, handler.stream_unary
    elif handler.stream_stream:
        factory, behavior = grpc.stream_stream_rpc_method_handler, handler.stream_stream
    else:
        raise ValueError("a gRPC method handler without a behaviour")
    return factory(
        _wrap_behavior(behavior, around),
        request_deserializer=handler.request_deserializer,
        response_serializer=handler.response_serializer,
    )


def _wrap_behavior(behavior: Callable[..., Any], around: Around) -> Callable[..., Any]:
    if inspect.isasyncgenfunction(behavior):

        async def stream_behavior(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
            async with around(context):
                async for response in behavior(request, context):
                    yield response

        return stream_behavior

    async def behavior_call(request: Any, context: grpc.aio.ServicerContext) -> Any:
        async with around(context):
            result = behavior(request, context)
            if inspect.isawaitable(result):
                result = await result
            return result

    return behavior_call


def final_status(context: grpc.aio.ServicerContext, error: BaseException | None) -> grpc.StatusCode:
    """The status code an RPC ends with, given how its handler finished."""
    if isinstance(error, asyncio.CancelledError):
        remaining = context.time_remaining()
        if remaining is not None and remaining <= 0:
            return grpc.StatusCode.DEADLINE_EXCEEDED
        return grpc.StatusCode.CANCELLED
    code = context.code()
    if isinstance(code, grpc.StatusCode):
        return code
    if isinstance(code, int):
        for candidate in grpc.StatusCode:
            if candidate.value[0] == code:
                return candidate
    return grpc.StatusCode.OK if error is None else grpc.StatusCode.UNKNOWN


class _AroundInterceptor(grpc.aio.ServerInterceptor):
    """Base: wraps every known method's handler in :meth:`around`."""

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler | None]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler | None:
        handler = await continuation(handler_call_details)
        if handler is None:  # unknown method: grpc answers UNIMPLEMENTED, no unbounded labels
            return None
        return wrap_method_handler(handler, lambda context: self.around(handler_call_details, context))

    def around(
        self, details: grpc.HandlerCallDetails, context: grpc.aio.ServicerContext
    ) -> AbstractAsyncContextManager[None]:
        raise NotImplementedError


class RequestContextInterceptor(_AroundInterceptor):
    """Restores request id, caller and trace context from the metadata for the handler.

    A missing or malformed ``x-request-id`` gets a fresh id. A server span named
    ``<service>/<method>`` is started as a child of the caller's ``traceparent``.
    """

    @asynccontextmanager
    async def around(
        self, details: grpc.HandlerCallDetails, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[None]:
        incoming = metadata_to_dict(details.invocation_metadata)
        service, method = metrics.split_method(details.method)
        request_token = request_id_var.set(request_id_from(incoming) or new_request_id())
        caller_token = caller_var.set(caller_from(incoming))
        error: BaseException | None = None
        try:
            with _tracer.start_as_current_span(
                f"{service}/{method}",
                context=extract_trace_context(incoming),
                kind=trace.SpanKind.SERVER,
                attributes={"rpc.system": "grpc", "rpc.service": service, "rpc.method": method},
                record_exception=False,
                set_status_on_exception=False,
            ) as span:
                try:
                    yield
                except BaseException as exc:
                    error = exc
                    raise
                finally:
                    code = final_status(context, error)
                    span.set_attribute("rpc.grpc.status_code", code.value[0])
                    if code not in (grpc.StatusCode.OK, grpc.StatusCode.NOT_FOUND):
                        span.set_status(trace.Status(trace.StatusCode.ERROR, code.name))
        finally:
            # A streaming handler closed from another context cannot reset; nothing leaks then.
            with suppress(ValueError):
                caller_var.reset(caller_token)
                request_id_var.reset(request_token)


class ServerMetricsInterceptor(_AroundInterceptor):
    """RED metrics: ``grpc_server_started_total``, ``grpc_server_handled_total`` and
    ``grpc_server_handling_seconds``."""

    @asynccontextmanager
    async def around(
        self, details: grpc.HandlerCallDetails, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[None]:
        service, method = metrics.split_method(details.method)
        metrics.SERVER_STARTED.labels(service, method).inc()
        started = time.perf_counter()
        error: BaseException | None = None
        try:
            yield
        except BaseException as exc:
            error = exc
            raise
        finally:
            code = final_status(context, error)
            metrics.SERVER_HANDLED.labels(service, method, code.name).inc()
            metrics.SERVER_HANDLING_SECONDS.labels(service, method).observe(time.perf_counter() - started)


class ErrorMappingInterceptor(_AroundInterceptor):
    """``ServiceError`` -> its gRPC status with its (safe) message; anything else -> INTERNAL.

    Unexpected exceptions are logged with their traceback but never sent to the caller.
    """

    @asynccontextmanager
    async def around(
        self, details: grpc.HandlerCallDetails, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[None]:
        try:
            yield
        except ServiceError as exc:
            await context.abort(grpc_status_for(exc), exc.message)
        except grpc.aio.AbortError:
            raise
        except Exception:
            logger.exception("unhandled error in gRPC method %s", details.method)
            await context.abort(grpc.StatusCode.INTERNAL, INTERNAL_ERROR_MESSAGE)


def default_server_interceptors() -> list[grpc.aio.ServerInterceptor]:
    return [RequestContextInterceptor(), ServerMetricsInterceptor(), ErrorMappingInterceptor()]
