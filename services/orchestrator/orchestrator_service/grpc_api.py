"""gRPC ``cryptopredict.orchestrator.v1.OrchestratorService``: run a cascade.

A layer without a fresh fallback answers ``UNAVAILABLE`` "Layer N service unavailable" (the
shared server interceptor maps the ``ServiceError``)."""

from __future__ import annotations

import grpc.aio

from cp_common.grpc import GrpcServer
from cryptopredict.events.v1 import cascade_pb2 as ev
from cryptopredict.orchestrator.v1 import orchestrator_pb2 as pb
from cryptopredict.orchestrator.v1 import orchestrator_pb2_grpc as pb_grpc
from orchestrator_service.components import Components
from orchestrator_service.requests import cascade_request

SERVICE_NAME = "cryptopredict.orchestrator.v1.OrchestratorService"
_MODES = {pb.CASCADE_MODE_UNSPECIFIED: "full", pb.CASCADE_MODE_FULL: "full", pb.CASCADE_MODE_QUICK: "quick"}
_TRIGGERS = {
    ev.CASCADE_TRIGGER_UNSPECIFIED: "manual",
    ev.CASCADE_TRIGGER_MANUAL: "manual",
    ev.CASCADE_TRIGGER_SCHEDULE: "schedule",
    ev.CASCADE_TRIGGER_MARKET_EVENT: "market_event",
}


class OrchestratorGrpcService(pb_grpc.OrchestratorServiceServicer):
    def __init__(self, parts: Components) -> None:
        self.parts = parts

    async def RunCascade(
        self, request: pb.RunCascadeRequest, context: grpc.aio.ServicerContext
    ) -> pb.RunCascadeResponse:
        cascade = cascade_request(
            symbols=list(request.symbols),
            mode=_MODES.get(request.mode, "invalid"),
            run_id=request.run_id or None,
            trigger=_TRIGGERS.get(request.trigger, "invalid"),
            max_symbols=self.parts.settings.orchestrator_max_symbols,
        )
        return await self.parts.cascade.run(cascade)


def register(parts: Components, server: GrpcServer) -> None:
    server.add_servicer(
        pb_grpc.add_OrchestratorServiceServicer_to_server, OrchestratorGrpcService(parts), SERVICE_NAME
    )
