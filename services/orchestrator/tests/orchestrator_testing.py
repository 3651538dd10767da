"""Scripted layer servers for the orchestrator's unit tests: real ``grpc.aio`` servers on real
ports serving the four layer contracts, each told to answer, fail with a status or hang, and
counting the calls that reached it (the real layer services are used by the fleet tests)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import grpc
import grpc.aio

from cryptopredict.analysis.v1 import (
    asset_pb2,
    asset_pb2_grpc,
    layer_pb2,
    macro_pb2,
    macro_pb2_grpc,
    sector_pb2,
    sector_pb2_grpc,
    timing_pb2,
    timing_pb2_grpc,
)
from cryptopredict.common.v1 import analysis_pb2 as common
from cryptopredict.common.v1 import signals_pb2


@dataclass
class Behaviour:
    #: "ok", "fail" (abort with ``code``) or "hang" (never answer).
    mode: str = "ok"
    code: grpc.StatusCode = grpc.StatusCode.UNAVAILABLE
    #: Fail this many calls, then answer (mode "ok" afterwards).
    fail_times: int = 0
    calls: int = 0
    run_ids: list[str] = field(default_factory=list)

    async def act(self, context: grpc.aio.ServicerContext, run_id: str) -> None:
        self.calls += 1
        self.run_ids.append(run_id)
        if self.fail_times > 0:
            self.fail_times -= 1
            await context.abort(self.code, "scripted failure")
        if self.mode == "fail":
            await context.abort(self.code, "scripted failure")
        if self.mode == "hang":
            await asyncio.sleep(3600)


def _run(run_id: str, model: str) -> layer_pb2.LayerRun:
    return layer_pb2.LayerRun(
        analysis_id=f"{model}-{run_id}", cascade_run_id=run_id, model_version=f"{model}:1", total_ms=2.0
    )


class _Macro(macro_pb2_grpc.MacroAnalysisServiceServicer):
    def __init__(self, b: Behaviour) -> None:
        self.b = b

    async def AnalyzeMacro(
        self, request: macro_pb2.AnalyzeMacroRequest, context: grpc.aio.ServicerContext
    ) -> macro_pb2.AnalyzeMacroResponse:
        await self.b.act(context, request.cascade_run_id)
        ctx = common.AnalysisContext(
            regime=common.REGIME_BULL,
            regime_confidence=0.8,
            risk_level=common.RISK_LEVEL_MEDIUM,
            recommended_exposure=0.6,
            cascade_run_id=request.cascade_run_id,
        )
        ctx.model_versions["macro"] = "macro_regime_v3:1"
        analysis = macro_pb2.MacroAnalysis(
            regime=common.REGIME_BULL,
            confidence=0.8,
            risk_level=common.RISK_LEVEL_MEDIUM,
            recommended_exposure=0.6,
        )
        return macro_pb2.AnalyzeMacroResponse(
            analysis=analysis, context=ctx, run=_run(request.cascade_run_id, "macro_regime_v3")
        )


class _Sector(sector_pb2_grpc.SectorAnalysisServiceServicer):
    def __init__(self, b: Behaviour) -> None:
        self.b = b

    async def AnalyzeSectors(
        self, request: sector_pb2.AnalyzeSectorsRequest, context: grpc.aio.ServicerContext
    ) -> sector_pb2.AnalyzeSectorsResponse:
        await self.b.act(context, request.cascade_run_id)
        ctx = common.AnalysisContext()
        ctx.CopyFrom(request.context)
        ctx.sector_allocation.update({"layer1": 0.5, "defi": 0.3, "meme": 0.2})
        ctx.leading_sectors[:] = ["layer1", "defi", "meme"]
        ctx.model_versions["sector"] = "sector_rotation_v2:1"
        analysis = sector_pb2.SectorAnalysis(
            leading_sectors=["layer1", "defi", "meme"], rotation_probability=0.3, macro_regime="bull"
        )
        analysis.recommended_allocation.update(ctx.sector_allocation)
        return sector_pb2.AnalyzeSectorsResponse(
            analysis=analysis, context=ctx, run=_run(request.cascade_run_id, "sector_rotation_v2")
        )


class _Asset(asset_pb2_grpc.AssetSelectionServiceServicer):
    def __init__(self, b: Behaviour) -> None:
        self.b = b

    async def SelectAssets(
        self, request: asset_pb2.SelectAssetsRequest, context: grpc.aio.ServicerContext
    ) -> asset_pb2.SelectAssetsResponse:
        await self.b.act(context, request.cascade_run_id)
        ctx = common.AnalysisContext()
        ctx.CopyFrom(request.context)
        symbols = list(request.symbols)[:2] or ["BTC"]
        for symbol in symbols:
            ctx.active_assets.append(common.AssetScore(symbol=symbol, ai_score=0.7, confidence=0.9))
        ctx.model_versions["asset"] = "asset_tier1_v4:1"
        analysis = asset_pb2.AssetAnalysis(
            selected=symbols,
            tier1=[asset_pb2.AssetAssessment(symbol=s, sector="layer1", score=0.7) for s in symbols],
        )
        return asset_pb2.SelectAssetsResponse(
            analysis=analysis, context=ctx, run=_run(request.cascade_run_id, "asset_tier1_v4")
        )


class _Timing(timing_pb2_grpc.TimingSignalsServiceServicer):
    def __init__(self, b: Behaviour) -> None:
        self.b = b

    async def GenerateSignals(
        self, request: timing_pb2.GenerateSignalsRequest, context: grpc.aio.ServicerContext
    ) -> timing_pb2.GenerateSignalsResponse:
        await self.b.act(context, request.cascade_run_id)
        signals = [
            signals_pb2.Signal(
                signal_id=f"{request.cascade_run_id}:{symbol}",
                symbol=symbol,
                signal_type=signals_pb2.SIGNAL_TYPE_LONG,
                status=signals_pb2.SIGNAL_STATUS_ACTIVE,
                entry_price=100.0,
                target_price=110.0,
                stop_loss=95.0,
                confidence=0.75,
                risk_reward_ratio=2.0,
                position_size=0.05,
                time_horizon_hours=48,
                cascade_run_id=request.cascade_run_id,
            )
            for symbol in request.symbols
        ]
        return timing_pb2.GenerateSignalsResponse(signals=signals, run=_run(request.cascade_run_id, "timing"))


@dataclass
class ScriptedLayers:
    port: int
    macro: Behaviour
    sector: Behaviour
    asset: Behaviour
    timing: Behaviour

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    def by_number(self, layer: int) -> Behaviour:
        return (self.macro, self.sector, self.asset, self.timing)[layer - 1]

    def reset(self) -> None:
        for layer in (1, 2, 3, 4):
            b = self.by_number(layer)
            b.mode, b.code, b.fail_times, b.calls = "ok", grpc.StatusCode.UNAVAILABLE, 0, 0
            b.run_ids.clear()


@contextlib.asynccontextmanager
async def scripted_layers() -> AsyncIterator[ScriptedLayers]:
    """All four layer services on one port (each a separate servicer with its own behaviour)."""
    server = grpc.aio.server()
    layers = ScriptedLayers(0, Behaviour(), Behaviour(), Behaviour(), Behaviour())
    macro_pb2_grpc.add_MacroAnalysisServiceServicer_to_server(_Macro(layers.macro), server)
    sector_pb2_grpc.add_SectorAnalysisServiceServicer_to_server(_Sector(layers.sector), server)
    asset_pb2_grpc.add_AssetSelectionServiceServicer_to_server(_Asset(layers.asset), server)
    timing_pb2_grpc.add_TimingSignalsServiceServicer_to_server(_Timing(layers.timing), server)
    layers.port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        yield layers
    finally:
        await server.stop(grace=None)
