"""Server side: health, reflection, error mapping, metrics, request context, shutdown."""

from __future__ import annotations

import asyncio

import grpc
import grpc.aio
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from opentelemetry import trace
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags

from cp_common.context import request_id_var
from cp_common.grpc import GrpcServer, create_channel
from cp_common.grpc.server_interceptors import INTERNAL_ERROR_MESSAGE
from cp_testing.waiting import eventually

from .conftest import SERVICE, make_server, method, sample, unary, unary_stream


async def test_health_reports_serving_for_server_and_each_service(channel: grpc.aio.Channel) -> None:
    stub = health_pb2_grpc.HealthStub(channel)
    for name in ("", SERVICE):
        reply = await stub.Check(health_pb2.HealthCheckRequest(service=name))
        assert reply.status == health_pb2.HealthCheckResponse.SERVING
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.Check(health_pb2.HealthCheckRequest(service="cptest.v1.Unknown"))
    assert caught.value.code() is grpc.StatusCode.NOT_FOUND


async def test_set_serving_toggles_one_service(grpc_server: GrpcServer, channel: grpc.aio.Channel) -> None:
    stub = health_pb2_grpc.HealthStub(channel)
    await grpc_server.set_serving(SERVICE, False)
    try:
        reply = await stub.Check(health_pb2.HealthCheckRequest(service=SERVICE))
        assert reply.status == health_pb2.HealthCheckResponse.NOT_SERVING
    finally:
        await grpc_server.set_serving(SERVICE, True)
    reply = await stub.Check(health_pb2.HealthCheckRequest(service=SERVICE))
    assert reply.status == health_pb2.HealthCheckResponse.SERVING


async def test_health_turns_not_serving_when_shutdown_begins() -> None:
    server = make_server(drain_seconds=0.6)
    await server.start()
    channel = create_channel(server.address)
    stub = health_pb2_grpc.HealthStub(channel)
    try:
        watch = stub.Watch(health_pb2.HealthCheckRequest(service=SERVICE), timeout=10)
        first = await watch.read()
        assert first.status == health_pb2.HealthCheckResponse.SERVING

        stopping = asyncio.create_task(server.stop(grace=0.5))
        second = await asyncio.wait_for(watch.read(), timeout=2)
        assert second.status == health_pb2.HealthCheckResponse.NOT_SERVING
        # Still answering during the drain window, but NOT_SERVING everywhere.
        for name in ("", SERVICE):
            reply = await stub.Check(health_pb2.HealthCheckRequest(service=name))
            assert reply.status == health_pb2.HealthCheckResponse.NOT_SERVING
        # A service cannot be switched back on once shutdown has begun.
        await server.set_serving(SERVICE, True)
        reply = await stub.Check(health_pb2.HealthCheckRequest(service=SERVICE))
        assert reply.status == health_pb2.HealthCheckResponse.NOT_SERVING

        await stopping
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=1)
        assert caught.value.code() is grpc.StatusCode.UNAVAILABLE
    finally:
        await channel.close()
        await server.stop(0)


async def test_graceful_stop_lets_in_flight_calls_finish() -> None:
    server = make_server()
    await server.start()
    channel = create_channel(server.address)
    try:
        in_flight = asyncio.ensure_future(unary(channel, method("Sleep"))(b"0.3"))
        await asyncio.sleep(0.1)
        await server.stop(grace=2.0)
        assert await in_flight == b"woke"
    finally:
        await channel.close()
        await server.stop(0)


async def test_reflection_lists_the_services(channel: grpc.aio.Channel) -> None:
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)
    call = stub.ServerReflectionInfo(timeout=5)
    await call.write(reflection_pb2.ServerReflectionRequest(list_services=""))
    reply = await call.read()
    await call.done_writing()
    names = {s.name for s in reply.list_services_response.service}
    assert names == {SERVICE, "grpc.health.v1.Health", "grpc.reflection.v1alpha.ServerReflection"}


@pytest.mark.parametrize(
    ("kind", "code", "details"),
    [
        ("not_found", grpc.StatusCode.NOT_FOUND, "Signal not found"),
        ("bad_request", grpc.StatusCode.INVALID_ARGUMENT, "symbol must be upper case"),
        ("unavailable", grpc.StatusCode.UNAVAILABLE, "Layer 1 service unavailable"),
        ("abort", grpc.StatusCode.FAILED_PRECONDITION, "aborted by handler"),
        ("crash", grpc.StatusCode.INTERNAL, INTERNAL_ERROR_MESSAGE),
    ],
)
async def test_errors_map_to_status_codes(
    channel: grpc.aio.Channel, kind: str, code: grpc.StatusCode, details: str
) -> None:
    handled_before = sample(
        "grpc_server_handled_total", grpc_service=SERVICE, grpc_method="Fail", grpc_code=code.name
    )
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await unary(channel, method("Fail"))(kind.encode())
    assert caught.value.code() is code
    assert caught.value.details() == details
    assert "hunter2" not in (caught.value.details() or "")
    assert (
        sample("grpc_server_handled_total", grpc_service=SERVICE, grpc_method="Fail", grpc_code=code.name)
        == handled_before + 1
    )


async def test_unexpected_error_is_logged_not_leaked(
    channel: grpc.aio.Channel, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("ERROR", logger="cp_common.grpc.server_interceptors"):
        with pytest.raises(grpc.aio.AioRpcError):
            await unary(channel, method("Fail"))(b"crash")
    assert any("/cptest.v1.ProbeService/Fail" in r.getMessage() and r.exc_info for r in caplog.records)


async def test_server_metrics_count_started_handled_and_latency(channel: grpc.aio.Channel) -> None:
    labels = {"grpc_service": SERVICE, "grpc_method": "Echo"}
    started = sample("grpc_server_started_total", **labels)
    handled = sample("grpc_server_handled_total", grpc_code="OK", **labels)
    observed = sample("grpc_server_handling_seconds_count", **labels)

    for _ in range(3):
        assert await unary(channel, method("Echo"))(b"ping") == b"ping"

    assert sample("grpc_server_started_total", **labels) == started + 3
    assert sample("grpc_server_handled_total", grpc_code="OK", **labels) == handled + 3
    assert sample("grpc_server_handling_seconds_count", **labels) == observed + 3


async def test_unknown_method_is_unimplemented_and_not_counted(channel: grpc.aio.Channel) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await unary(channel, "/cptest.v1.ProbeService/Nope")(b"")
    assert caught.value.code() is grpc.StatusCode.UNIMPLEMENTED
    assert sample("grpc_server_started_total", grpc_service=SERVICE, grpc_method="Nope") == 0


async def test_request_id_and_caller_propagate_end_to_end(channel: grpc.aio.Channel) -> None:
    token = request_id_var.set("req-e2e-123")
    try:
        reply = await unary(channel, method("WhoAmI"))(b"")
    finally:
        request_id_var.reset(token)
    request_id, caller, _ = reply.decode().split("|")
    assert request_id == "req-e2e-123"
    assert caller == "orchestrator"


async def test_explicit_metadata_wins_and_unsafe_request_id_is_replaced(channel: grpc.aio.Channel) -> None:
    reply = await unary(channel, method("WhoAmI"))(
        b"", metadata=(("x-request-id", "from-caller"), ("x-caller", "layer4-timing"))
    )
    assert reply.decode().split("|")[:2] == ["from-caller", "layer4-timing"]

    unsafe = "not a token; " + "x" * 200
    reply = await unary(channel, method("WhoAmI"))(b"", metadata=(("x-request-id", unsafe),))
    request_id = reply.decode().split("|")[0]
    assert request_id != unsafe
    assert len(request_id) == 32 and all(c in "0123456789abcdef" for c in request_id)


async def test_fresh_request_id_when_caller_has_none(channel: grpc.aio.Channel) -> None:
    assert request_id_var.get() is None
    first = (await unary(channel, method("WhoAmI"))(b"")).decode().split("|")[0]
    second = (await unary(channel, method("WhoAmI"))(b"")).decode().split("|")[0]
    assert first and second and first != second
    assert request_id_var.get() is None


async def test_trace_context_propagates(channel: grpc.aio.Channel) -> None:
    parent = SpanContext(
        trace_id=0x4BF92F3577B34DA6A3CE929D0E0E4736,
        span_id=0x00F067AA0BA902B7,
        is_remote=False,
        trace_flags=TraceFlags(TraceFlags.SAMPLED),
    )
    with trace.use_span(NonRecordingSpan(parent)):
        reply = await unary(channel, method("WhoAmI"))(b"")
    assert reply.decode().split("|")[2] == "4bf92f3577b34da6a3ce929d0e0e4736"

    reply = await unary(channel, method("WhoAmI"))(b"")
    assert reply.decode().split("|")[2] == "-"


async def test_streaming_handler_runs_inside_the_interceptors(channel: grpc.aio.Channel) -> None:
    labels = {"grpc_service": SERVICE, "grpc_method": "Count"}
    server_before = sample("grpc_server_handled_total", grpc_code="OK", **labels)
    client_before = sample("grpc_client_handled_total", grpc_code="OK", **labels)
    token = request_id_var.set("req-stream")
    try:
        call = unary_stream(channel, method("Count"))(b"3")
        items = [item async for item in call]
    finally:
        request_id_var.reset(token)
    assert items == [b"0:req-stream", b"1:req-stream", b"2:req-stream"]
    await eventually(
        lambda: sample("grpc_server_handled_total", grpc_code="OK", **labels) == server_before + 1
    )
    await eventually(
        lambda: sample("grpc_client_handled_total", grpc_code="OK", **labels) == client_before + 1
    )


async def test_server_cannot_be_configured_after_start(grpc_server: GrpcServer) -> None:
    from .conftest import probe_handler

    with pytest.raises(RuntimeError):
        grpc_server.add_generic_handler(probe_handler(), "cptest.v1.Other")


async def test_port_in_use_is_an_error(grpc_server: GrpcServer) -> None:
    clash = GrpcServer(host="127.0.0.1", port=grpc_server.port or 0)
    with pytest.raises(OSError):
        await clash.start()
    await clash.stop(0)
