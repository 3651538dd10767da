"""A real grpc.aio server on 127.0.0.1 exposing a raw-bytes test service."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import grpc
import grpc.aio
import pytest
from opentelemetry import trace
from prometheus_client import REGISTRY

from cp_common.context import caller_var, request_id_var
from cp_common.errors import BadRequest, NotFound, Unavailable
from cp_common.grpc import GrpcServer, create_channel

SERVICE = "cptest.v1.ProbeService"


def method(name: str) -> str:
    return f"/{SERVICE}/{name}"


def unary(channel: grpc.aio.Channel, path: str) -> grpc.aio.UnaryUnaryMultiCallable[bytes, bytes]:
    """A raw-bytes unary call (no serializers) on ``path``."""
    return channel.unary_unary(path)


def unary_stream(channel: grpc.aio.Channel, path: str) -> grpc.aio.UnaryStreamMultiCallable[bytes, bytes]:
    """A raw-bytes server-streaming call (no serializers) on ``path``."""
    return channel.unary_stream(path)


async def echo(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
    return request


async def sleep(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
    await asyncio.sleep(float(request.decode()))
    return b"woke"


async def whoami(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
    span_context = trace.get_current_span().get_span_context()
    trace_id = format(span_context.trace_id, "032x") if span_context.is_valid else "-"
    return f"{request_id_var.get()}|{caller_var.get()}|{trace_id}".encode()


async def fail(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
    kind = request.decode()
    if kind == "not_found":
        raise NotFound("Signal not found")
    if kind == "bad_request":
        raise BadRequest("symbol must be upper case")
    if kind == "unavailable":
        raise Unavailable("Layer 1 service unavailable")
    if kind == "abort":
        await context.abort(grpc.StatusCode.FAILED_PRECONDITION, "aborted by handler")
    raise RuntimeError("db password=hunter2 leaked in a traceback")


async def count(request: bytes, context: grpc.aio.ServicerContext) -> AsyncIterator[bytes]:
    for i in range(int(request.decode())):
        yield f"{i}:{request_id_var.get()}".encode()


def probe_handler() -> grpc.GenericRpcHandler:
    return grpc.method_handlers_generic_handler(
        SERVICE,
        {
            "Echo": grpc.unary_unary_rpc_method_handler(echo),
            "Sleep": grpc.unary_unary_rpc_method_handler(sleep),
            "WhoAmI": grpc.unary_unary_rpc_method_handler(whoami),
            "Fail": grpc.unary_unary_rpc_method_handler(fail),
            "Count": grpc.unary_stream_rpc_method_handler(count),
        },
    )


def sample(name: str, **labels: str) -> float:
    """Current value of a sample in the default Prometheus registry (0 when absent)."""
    return REGISTRY.get_sample_value(name, labels) or 0.0


def make_server(**kwargs: object) -> GrpcServer:
    server = GrpcServer(host="127.0.0.1", port=0, grace_period=1.0, **kwargs)  # type: ignore[arg-type]
    server.add_generic_handler(probe_handler(), SERVICE)
    return server


@pytest.fixture(scope="module")
async def grpc_server() -> AsyncIterator[GrpcServer]:
    server = make_server()
    await server.start()
    yield server
    await server.stop(0)


@pytest.fixture
async def channel(grpc_server: GrpcServer) -> AsyncIterator[grpc.aio.Channel]:
    ch = create_channel(grpc_server.address, caller="orchestrator", default_timeout=5.0)
    yield ch
    await ch.close()
