"""Layers 1-3 called one after the other over gRPC on a running fleet (the mini cascade), and
Layer 4's signals at a rebalance close: what whole-fleet tests and benchmarks seed data with."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Protocol

import grpc.aio
from google.protobuf.timestamp_pb2 import Timestamp

from cryptopredict.analysis.v1 import (
    asset_pb2,
    asset_pb2_grpc,
    macro_pb2,
    macro_pb2_grpc,
    sector_pb2,
    sector_pb2_grpc,
    timing_pb2,
    timing_pb2_grpc,
)

#: Weeks back from the latest close that :func:`signals_on_a_rebalance_day` tries.
REBALANCE_WEEKS = 8


class GrpcTargets(Protocol):
    def grpc_target(self, name: str) -> str: ...


async def cascade_over_grpc(
    fleet: GrpcTargets, run_id: str, as_of: Timestamp | None = None
) -> tuple[macro_pb2.AnalyzeMacroResponse, sector_pb2.AnalyzeSectorsResponse, asset_pb2.SelectAssetsResponse]:
    """Layer 1, then Layer 2 on its context, then Layer 3 on Layer 2's (``as_of`` or the latest close)."""
    async with (
        grpc.aio.insecure_channel(fleet.grpc_target("layer1-macro")) as l1,
        grpc.aio.insecure_channel(fleet.grpc_target("layer2-sector")) as l2,
        grpc.aio.insecure_channel(fleet.grpc_target("layer3-asset")) as l3,
    ):
        macro = await macro_pb2_grpc.MacroAnalysisServiceStub(l1).AnalyzeMacro(
            macro_pb2.AnalyzeMacroRequest(cascade_run_id=run_id, as_of=as_of), timeout=30
        )
        sector = await sector_pb2_grpc.SectorAnalysisServiceStub(l2).AnalyzeSectors(
            sector_pb2.AnalyzeSectorsRequest(context=macro.context, cascade_run_id=run_id, as_of=as_of),
            timeout=30,
        )
        asset = await asset_pb2_grpc.AssetSelectionServiceStub(l3).SelectAssets(
            asset_pb2.SelectAssetsRequest(context=sector.context, cascade_run_id=run_id, as_of=as_of),
            timeout=30,
        )
    return macro, sector, asset


async def signals_on_a_rebalance_day(
    fleet: GrpcTargets, latest: datetime
) -> tuple[asset_pb2.SelectAssetsResponse, timing_pb2.GenerateSignalsResponse]:
    """The full cascade at the Sunday closes (the book's rebalance) going back from ``latest``
    until Layer 4 emits signals (a day whose market budget is zero has none); Layer 4 stores them."""
    sunday = latest - timedelta(days=(latest.weekday() - 6) % 7)
    async with grpc.aio.insecure_channel(fleet.grpc_target("layer4-timing")) as l4:
        stub = timing_pb2_grpc.TimingSignalsServiceStub(l4)
        for week in range(REBALANCE_WEEKS):
            as_of = Timestamp()
            as_of.FromDatetime(sunday - timedelta(weeks=week) + timedelta(days=1))
            run_id = f"l4-fleet-{uuid.uuid4().hex[:8]}"
            _, _, asset = await cascade_over_grpc(fleet, run_id, as_of)
            timing = await stub.GenerateSignals(
                timing_pb2.GenerateSignalsRequest(context=asset.context, as_of=as_of, cascade_run_id=run_id),
                timeout=60,
            )
            if timing.signals:
                return asset, timing
    raise AssertionError(f"no signals at any of the last {REBALANCE_WEEKS} rebalance closes")
