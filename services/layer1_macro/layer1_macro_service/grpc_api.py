"""``MacroAnalysisService`` over gRPC: one method around the kit's request flow."""

from __future__ import annotations

import grpc

from cp_common.grpc import GrpcServer
from cp_layer_kit import LayerKit, run_analysis
from cryptopredict.analysis.v1 import macro_pb2, macro_pb2_grpc
from layer1_macro_service.analysis import compute

SERVICE_NAME = "cryptopredict.analysis.v1.MacroAnalysisService"


class MacroAnalysisServicer(macro_pb2_grpc.MacroAnalysisServiceServicer):
    def __init__(self, kit: LayerKit) -> None:
        self.kit = kit

    async def AnalyzeMacro(
        self, request: macro_pb2.AnalyzeMacroRequest, context: grpc.aio.ServicerContext
    ) -> macro_pb2.AnalyzeMacroResponse:
        return await run_analysis(self.kit, request, macro_pb2.AnalyzeMacroResponse, compute)


def register(kit: LayerKit, server: GrpcServer) -> None:
    server.add_servicer(
        macro_pb2_grpc.add_MacroAnalysisServiceServicer_to_server, MacroAnalysisServicer(kit), SERVICE_NAME
    )
