"""``SectorAnalysisService`` over gRPC: one method around the kit's request flow."""

from __future__ import annotations

import grpc

from cp_common.grpc import GrpcServer
from cp_layer_kit import LayerKit, run_analysis
from cryptopredict.analysis.v1 import sector_pb2, sector_pb2_grpc
from layer2_sector_service.analysis import compute

SERVICE_NAME = "cryptopredict.analysis.v1.SectorAnalysisService"


class SectorAnalysisServicer(sector_pb2_grpc.SectorAnalysisServiceServicer):
    def __init__(self, kit: LayerKit) -> None:
        self.kit = kit

    async def AnalyzeSectors(
        self, request: sector_pb2.AnalyzeSectorsRequest, context: grpc.aio.ServicerContext
    ) -> sector_pb2.AnalyzeSectorsResponse:
        return await run_analysis(self.kit, request, sector_pb2.AnalyzeSectorsResponse, compute)


def register(kit: LayerKit, server: GrpcServer) -> None:
    server.add_servicer(
        sector_pb2_grpc.add_SectorAnalysisServiceServicer_to_server, SectorAnalysisServicer(kit), SERVICE_NAME
    )
