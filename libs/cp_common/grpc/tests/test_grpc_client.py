"""Client side: deadlines, client metrics, status conversion."""

from __future__ import annotations

import time

import grpc
import grpc.aio
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from cp_common.errors import (
    BadRequest,
    DeadlineExceeded,
    Forbidden,
    NotFound,
    ServiceError,
    Unauthorized,
    Unavailable,
)
from cp_common.grpc import GrpcServer, create_channel, http_status_for, service_error_from_rpc_error
from cp_common.grpc.client_interceptors import DefaultDeadlineInterceptor
from cp_testing.waiting import eventually

from .conftest import SERVICE, method, sample, unary


async def test_explicit_deadline_cuts_a_slow_call(channel: grpc.aio.Channel) -> None:
    started = time.monotonic()
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await unary(channel, method("Sleep"))(b"3", timeout=0.2)
    assert caught.value.code() is grpc.StatusCode.DEADLINE_EXCEEDED
    assert time.monotonic() - started < 1.5


async def test_default_deadline_applies_when_the_caller_sets_none(grpc_server: GrpcServer) -> None:
    labels = {"grpc_service": SERVICE, "grpc_method": "Sleep", "grpc_code": "DEADLINE_EXCEEDED"}
    client_before = sample("grpc_client_handled_total", **labels)
    server_before = sample("grpc_server_handled_total", **labels)
    channel = create_channel(grpc_server.address, default_timeout=0.3)
    try:
        started = time.monotonic()
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await unary(channel, method("Sleep"))(b"3")
        elapsed = time.monotonic() - started
        assert caught.value.code() is grpc.StatusCode.DEADLINE_EXCEEDED
        assert 0.2 < elapsed < 1.5
        # An explicit, longer timeout still wins over the default.
        assert await unary(channel, method("Sleep"))(b"0.5", timeout=3) == b"woke"
    finally:
        await channel.close()
    assert sample("grpc_client_handled_total", **labels) == client_before + 1
    # The server cancels the handler and counts the call as DEADLINE_EXCEEDED too; on a busy
    # machine the cancellation may land late, so wait past the handler's own 3 s sleep.
    await eventually(lambda: sample("grpc_server_handled_total", **labels) == server_before + 1, within=5.0)


async def test_default_deadline_applies_to_streams_too(grpc_server: GrpcServer) -> None:
    channel = create_channel(grpc_server.address, default_timeout=0.3)
    try:
        watch = health_pb2_grpc.HealthStub(channel).Watch(health_pb2.HealthCheckRequest(service=""))
        assert (await watch.read()).status == health_pb2.HealthCheckResponse.SERVING
        started = time.monotonic()
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await watch.read()
        assert caught.value.code() is grpc.StatusCode.DEADLINE_EXCEEDED
        assert time.monotonic() - started < 1.5
    finally:
        await channel.close()


async def test_client_metrics_count_calls(channel: grpc.aio.Channel) -> None:
    labels = {"grpc_service": SERVICE, "grpc_method": "Echo"}
    started = sample("grpc_client_started_total", **labels)
    ok = sample("grpc_client_handled_total", grpc_code="OK", **labels)
    seconds = sample("grpc_client_handling_seconds_count", **labels)
    fail_labels = {"grpc_service": SERVICE, "grpc_method": "Fail", "grpc_code": "NOT_FOUND"}
    not_found = sample("grpc_client_handled_total", **fail_labels)

    await unary(channel, method("Echo"))(b"x")
    await unary(channel, method("Echo"))(b"y")
    with pytest.raises(grpc.aio.AioRpcError):
        await unary(channel, method("Fail"))(b"not_found")

    assert sample("grpc_client_started_total", **labels) == started + 2
    assert sample("grpc_client_handled_total", grpc_code="OK", **labels) == ok + 2
    assert sample("grpc_client_handling_seconds_count", **labels) == seconds + 2
    assert sample("grpc_client_handled_total", **fail_labels) == not_found + 1


async def test_rpc_errors_become_service_errors(channel: grpc.aio.Channel) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await unary(channel, method("Fail"))(b"not_found")
    converted = service_error_from_rpc_error(caught.value, service="Layer 4 service")
    assert isinstance(converted, NotFound)
    assert converted.status_code == 404
    assert converted.message == "Signal not found"

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await unary(channel, method("Sleep"))(b"2", timeout=0.1)
    converted = service_error_from_rpc_error(caught.value, service="Layer 1 service")
    assert isinstance(converted, DeadlineExceeded)
    assert converted.status_code == 504
    assert converted.message == "Layer 1 service did not answer in time"


async def test_unreachable_service_becomes_unavailable() -> None:
    channel = create_channel("127.0.0.1:1", default_timeout=2)
    try:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await unary(channel, method("Echo"))(b"")
    finally:
        await channel.close()
    converted = service_error_from_rpc_error(caught.value, service="Layer 1 service")
    assert isinstance(converted, Unavailable)
    assert converted.status_code == 503
    assert converted.message == "Layer 1 service unavailable"


async def test_internal_details_are_not_passed_on(channel: grpc.aio.Channel) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await unary(channel, method("Fail"))(b"crash")
    converted = service_error_from_rpc_error(caught.value)
    assert type(converted) is ServiceError
    assert converted.status_code == 500
    assert converted.grpc_code == "INTERNAL"
    assert converted.message == "upstream service failed"


@pytest.mark.parametrize(
    ("code", "status"),
    [
        (grpc.StatusCode.OK, 200),
        (grpc.StatusCode.INVALID_ARGUMENT, 400),
        (grpc.StatusCode.UNAUTHENTICATED, 401),
        (grpc.StatusCode.PERMISSION_DENIED, 403),
        (grpc.StatusCode.NOT_FOUND, 404),
        (grpc.StatusCode.ALREADY_EXISTS, 409),
        (grpc.StatusCode.RESOURCE_EXHAUSTED, 429),
        (grpc.StatusCode.INTERNAL, 500),
        (grpc.StatusCode.UNIMPLEMENTED, 501),
        (grpc.StatusCode.UNAVAILABLE, 503),
        (grpc.StatusCode.DEADLINE_EXCEEDED, 504),
    ],
)
def test_http_status_for(code: grpc.StatusCode, status: int) -> None:
    assert http_status_for(code) == status


def test_every_grpc_code_has_an_http_status() -> None:
    assert all(100 <= http_status_for(code) <= 599 for code in grpc.StatusCode)


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (BadRequest("x"), grpc.StatusCode.INVALID_ARGUMENT),
        (Unauthorized("x"), grpc.StatusCode.UNAUTHENTICATED),
        (Forbidden("x"), grpc.StatusCode.PERMISSION_DENIED),
        (NotFound("x"), grpc.StatusCode.NOT_FOUND),
        (Unavailable("x"), grpc.StatusCode.UNAVAILABLE),
        (ServiceError("x"), grpc.StatusCode.INTERNAL),
    ],
)
def test_grpc_status_for_service_errors(error: ServiceError, code: grpc.StatusCode) -> None:
    from cp_common.grpc import grpc_status_for

    assert grpc_status_for(error) is code
    assert http_status_for(code) == error.status_code


def test_default_deadline_must_be_positive() -> None:
    with pytest.raises(ValueError):
        DefaultDeadlineInterceptor(0)
