"""gRPC ``cryptopredict.analysis.v1.TimingSignalsService`` for the orchestrator and the admin service."""

from __future__ import annotations

import uuid
from datetime import timedelta

import grpc.aio

from cp_common.errors import BadRequest, NotFound, ServiceError
from cp_common.grpc import GrpcServer
from cp_common.proto_enums import from_proto
from cp_layer_kit.analysis import run_analysis
from cp_layer_kit.layer import LayerKit
from cryptopredict.analysis.v1 import timing_pb2 as pb
from cryptopredict.analysis.v1 import timing_pb2_grpc as pb_grpc
from cryptopredict.common.v1 import signals_pb2
from layer4_timing_service import clock
from layer4_timing_service.components import TimingComponents, components_of
from layer4_timing_service.events import signal_message
from layer4_timing_service.generation import compute, count_generated
from layer4_timing_service.storage import signals as store
from layer4_timing_service.storage import summary as summary_store
from layer4_timing_service.storage.signals import SignalFilter

SERVICE_NAME = "cryptopredict.analysis.v1.TimingSignalsService"
DEFAULT_LIST = 50
MAX_LIST = 500
MAX_REASON = 500
DEFAULT_SUMMARY_DAYS = 30
MAX_SUMMARY_DAYS = 365


class SignalNotActive(ServiceError):
    """Only an active signal can be cancelled."""

    status_code = 409
    grpc_code = "FAILED_PRECONDITION"


def _signal_id(raw: str) -> uuid.UUID:
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise BadRequest("signal_id must be a UUID") from None


class TimingSignalsGrpcService(pb_grpc.TimingSignalsServiceServicer):
    def __init__(self, kit: LayerKit, parts: TimingComponents) -> None:
        self.kit = kit
        self.parts = parts

    async def GenerateSignals(
        self, request: pb.GenerateSignalsRequest, context: grpc.aio.ServicerContext
    ) -> pb.GenerateSignalsResponse:
        response = await run_analysis(self.kit, request, pb.GenerateSignalsResponse, compute)
        count_generated(response)
        return response

    async def GetSignal(
        self, request: pb.GetSignalRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetSignalResponse:
        async with self.parts.pool.acquire() as conn:
            found = await store.get(conn, _signal_id(request.signal_id))
        if found is None:
            raise NotFound("Signal not found")
        return pb.GetSignalResponse(signal=signal_message(found))

    async def ListSignals(
        self, request: pb.ListSignalsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListSignalsResponse:
        status = from_proto(signals_pb2.SignalStatus, request.status, default="active")
        limit = request.limit or DEFAULT_LIST
        if not 1 <= limit <= MAX_LIST:
            raise BadRequest(f"limit must be between 1 and {MAX_LIST}")
        where = SignalFilter(status=status, symbol=request.symbol.upper() or None)
        async with self.parts.pool.acquire() as conn:
            rows = await store.page(conn, where, limit)
        return pb.ListSignalsResponse(signals=[signal_message(s) for s in rows])

    async def CancelSignal(
        self, request: pb.CancelSignalRequest, context: grpc.aio.ServicerContext
    ) -> pb.CancelSignalResponse:
        reason = request.reason.strip()
        if not reason or len(reason) > MAX_REASON:
            raise BadRequest(f"reason: required, at most {MAX_REASON} characters")
        ident = _signal_id(request.signal_id)
        async with self.parts.pool.acquire() as conn, conn.transaction():
            cancelled = await self.parts.tracker.cancel(conn, ident, reason)
            if cancelled is None:
                current = await store.get(conn, ident)
                if current is None:
                    raise NotFound("Signal not found")
                raise SignalNotActive(f"the signal is not active (it is {current.status})")
        self.parts.reads.invalidate()  # again after the commit: no listing read before it stays
        return pb.CancelSignalResponse(signal=signal_message(cancelled))

    async def GetPerformanceSummary(
        self, request: pb.GetPerformanceSummaryRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetPerformanceSummaryResponse:
        days = request.days or DEFAULT_SUMMARY_DAYS
        if not 1 <= days <= MAX_SUMMARY_DAYS:
            raise BadRequest(f"days must be between 1 and {MAX_SUMMARY_DAYS}")
        async with self.parts.pool.acquire() as conn:
            until = await clock.now(conn, self.parts.settings.layer4_clock)
            since = until - timedelta(days=days)
            found = await summary_store.summary(conn, since)
        response = pb.GetPerformanceSummaryResponse(
            period_days=days,
            generated=found.generated,
            open=found.open,
            closed_by_outcome=found.closed_by_outcome,
            trades=found.trades,
            wins=found.wins,
            total_return=found.total_return,
        )
        response.since.FromDatetime(since)
        response.until.FromDatetime(until)
        for name in ("win_rate", "average_return", "profit_factor"):
            value = getattr(found, name)
            if value is not None:
                setattr(response, name, value)
        return response


def register(kit: LayerKit, server: GrpcServer) -> None:
    servicer = TimingSignalsGrpcService(kit, components_of(kit.runtime))
    server.add_servicer(pb_grpc.add_TimingSignalsServiceServicer_to_server, servicer, SERVICE_NAME)
