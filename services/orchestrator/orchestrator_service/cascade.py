"""The cascade: Layer 1 -> 2 -> 3 -> 4 over gRPC with the growing ``AnalysisContext``.

Each step goes through its :class:`GuardedLayer` (deadline, breaker, one retry). A failed step
falls back to the layer's stored latest result when it is younger than
``orchestrator_fallback_max_age_s`` (the run is then ``degraded``, the layer named); otherwise
the run fails with :class:`LayerUnavailable` ("Layer N service unavailable", HTTP 503). ``quick``
runs reuse Layer 1 and 2 results younger than ``orchestrator_quick_reuse_s``. The run id is sent
to every layer as ``cascade_run_id``: a retried run is answered from the layers' stores, so
Layer 4 emits no duplicate signals.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TypeVar

import asyncpg
from google.protobuf.message import Message

from cp_common.errors import ServiceError
from cryptopredict.analysis.v1 import asset_pb2, macro_pb2, sector_pb2, timing_pb2
from cryptopredict.common.v1 import analysis_pb2 as common
from cryptopredict.orchestrator.v1 import orchestrator_pb2 as pb
from orchestrator_service import events
from orchestrator_service.clients import LayerStubs, TierSets, Universe
from orchestrator_service.confidence import cascade_confidence, mean_or_none, rotation_confidence
from orchestrator_service.layers import ASSET, MACRO, SECTOR, TIMING, LayerInfo
from orchestrator_service.metrics import CASCADE_RUNS, LAST_COMPLETED, LAYER_CALLS, LAYER_SECONDS, RUN_SECONDS
from orchestrator_service.resilience import GuardedLayer, LayerFailed, LayerUnavailable
from orchestrator_service.settings import OrchestratorSettings
from orchestrator_service.steps import FAILED, OK, REUSED, SKIPPED, STALE_FALLBACK, Step, l1_context_too_old
from orchestrator_service.storage import latest, runs

log = logging.getLogger(__name__)

M = TypeVar("M", bound=Message)


@dataclass(frozen=True)
class CascadeRequest:
    run_id: str
    trigger: str = "manual"
    mode: str = "full"
    symbols: tuple[str, ...] = ()


@dataclass
class RunState:
    request: CascadeRequest
    started_at: datetime
    tiers: TierSets
    symbols: list[str]
    steps: list[Step] = field(default_factory=list)
    response: pb.RunCascadeResponse = field(default_factory=pb.RunCascadeResponse)

    @property
    def degraded_layers(self) -> list[str]:
        return [s.layer.key for s in self.steps if s.degraded]


class Cascade:
    def __init__(
        self,
        settings: OrchestratorSettings,
        pool: asyncpg.Pool,
        stubs: LayerStubs,
        universe: Universe,
        guards: dict[int, GuardedLayer],
    ) -> None:
        self.settings = settings
        self.pool = pool
        self.stubs = stubs
        self.universe = universe
        self.guards = guards

    async def observe_last_completed(self) -> None:
        """Sets the last-completed gauge from the store: it survives restarts and counts the runs
        other replicas finished before this one started."""
        last = await runs.latest_completed(self.pool)
        if last is not None and last.finished_at is not None:
            LAST_COMPLETED.set(last.finished_at.timestamp())

    async def run(self, request: CascadeRequest) -> pb.RunCascadeResponse:
        tiers = await self.universe.tier_sets()
        state = RunState(request, datetime.now(UTC), tiers, list(request.symbols) or tiers.symbols)
        await runs.start(
            self.pool,
            run_id=request.run_id,
            trigger=request.trigger,
            mode=request.mode,
            symbols=state.symbols,
            started_at=state.started_at,
            event=events.run_started(state),
        )
        try:
            await self._layers(state)
        except ServiceError as exc:
            await self._finish(state, "failed", str(exc))
            raise
        await self._finish(state, "degraded" if state.degraded_layers else "succeeded", "")
        return state.response

    async def _layers(self, state: RunState) -> None:
        quick = state.request.mode == "quick"
        reuse = self.settings.orchestrator_quick_reuse_s if quick else None
        macro = await self._step(state, MACRO, macro_pb2.AnalyzeMacroResponse, self._call_macro(state), reuse)
        state.response.macro.CopyFrom(macro)
        l1_done = time.monotonic()
        sector = await self._step(
            state, SECTOR, sector_pb2.AnalyzeSectorsResponse, self._call_sector(state, macro.context), reuse
        )
        state.response.sector.CopyFrom(sector)
        assets = await self._step(
            state, ASSET, asset_pb2.SelectAssetsResponse, self._call_asset(state, sector.context), None
        )
        state.response.assets.CopyFrom(assets)
        if l1_context_too_old(
            state.steps[0], time.monotonic() - l1_done, self.settings.orchestrator_fallback_max_age_s
        ):
            state.steps.append(
                Step(TIMING, SKIPPED, 0.0, error="Layer 1 context older than the fallback bound")
            )
            return
        timing = await self._step(
            state, TIMING, timing_pb2.GenerateSignalsResponse, self._call_timing(state, assets.context), None
        )
        state.response.timing.CopyFrom(timing)

    def _context(self, state: RunState, upstream: common.AnalysisContext) -> common.AnalysisContext:
        context = common.AnalysisContext()
        context.CopyFrom(upstream)
        context.cascade_run_id = state.request.run_id
        context.degraded = bool(state.degraded_layers) or upstream.degraded
        return context

    def _call_macro(self, state: RunState) -> Callable[[float], Awaitable[macro_pb2.AnalyzeMacroResponse]]:
        async def call(budget_s: float) -> macro_pb2.AnalyzeMacroResponse:
            stub = self.stubs.macro
            if stub is None:
                raise LayerFailed(MACRO, "not configured")
            request = macro_pb2.AnalyzeMacroRequest(
                cascade_run_id=state.request.run_id, symbols=state.symbols
            )
            return await stub.AnalyzeMacro(request, timeout=budget_s)

        return call

    def _call_sector(
        self, state: RunState, upstream: common.AnalysisContext
    ) -> Callable[[float], Awaitable[sector_pb2.AnalyzeSectorsResponse]]:
        async def call(budget_s: float) -> sector_pb2.AnalyzeSectorsResponse:
            stub = self.stubs.sector
            if stub is None:
                raise LayerFailed(SECTOR, "not configured")
            request = sector_pb2.AnalyzeSectorsRequest(
                context=self._context(state, upstream),
                cascade_run_id=state.request.run_id,
                symbols=state.symbols,
            )
            return await stub.AnalyzeSectors(request, timeout=budget_s)

        return call

    def _call_asset(
        self, state: RunState, upstream: common.AnalysisContext
    ) -> Callable[[float], Awaitable[asset_pb2.SelectAssetsResponse]]:
        async def call(budget_s: float) -> asset_pb2.SelectAssetsResponse:
            stub = self.stubs.asset
            if stub is None:
                raise LayerFailed(ASSET, "not configured")
            request = asset_pb2.SelectAssetsRequest(
                context=self._context(state, upstream),
                cascade_run_id=state.request.run_id,
                symbols=state.symbols,
                tier1_symbols=state.tiers.tier1,
                tier2_symbols=state.tiers.tier2,
            )
            return await stub.SelectAssets(request, timeout=budget_s)

        return call

    def _call_timing(
        self, state: RunState, upstream: common.AnalysisContext
    ) -> Callable[[float], Awaitable[timing_pb2.GenerateSignalsResponse]]:
        async def call(budget_s: float) -> timing_pb2.GenerateSignalsResponse:
            stub = self.stubs.timing
            if stub is None:
                raise LayerFailed(TIMING, "not configured")
            context = self._context(state, upstream)
            request = timing_pb2.GenerateSignalsRequest(
                context=context,
                cascade_run_id=state.request.run_id,
                symbols=[a.symbol for a in context.active_assets],
            )
            return await stub.GenerateSignals(request, timeout=budget_s)

        return call

    async def _step(
        self,
        state: RunState,
        layer: LayerInfo,
        response_type: type[M],
        call: Callable[[float], Awaitable[M]],
        reuse_s: float | None,
    ) -> M:
        began = time.monotonic()
        if reuse_s is not None:
            stored = await latest.load(self.pool, layer.number)
            if stored is not None and stored.age_s() <= reuse_s:
                return self._record(
                    state, layer, REUSED, began, response_type.FromString(stored.response), stored.age_s()
                )
        try:
            response = await self.guards[layer.number].call(call)
        except LayerFailed as failure:
            return await self._fallback(state, layer, response_type, began, failure)
        await latest.save(
            self.pool, layer.number, state.request.run_id, response.SerializeToString(), datetime.now(UTC)
        )
        return self._record(state, layer, OK, began, response, None)

    async def _fallback(
        self, state: RunState, layer: LayerInfo, response_type: type[M], began: float, failure: LayerFailed
    ) -> M:
        stored = await latest.load(self.pool, layer.number)
        bound = self.settings.orchestrator_fallback_max_age_s
        if stored is None or stored.age_s() > bound:
            state.steps.append(Step(layer, FAILED, time.monotonic() - began, error=failure.reason))
            LAYER_CALLS.labels(layer.breaker_name, FAILED).inc()
            log.warning(
                "layer failed without a fresh fallback",
                extra={"layer": layer.number, "reason": failure.reason},
            )
            raise LayerUnavailable(layer) from None
        log.warning(
            "layer failed, using its last result", extra={"layer": layer.number, "reason": failure.reason}
        )
        response = self._record(
            state, layer, STALE_FALLBACK, began, response_type.FromString(stored.response), stored.age_s()
        )
        state.steps[-1].error = failure.reason
        return response

    def _record(
        self, state: RunState, layer: LayerInfo, outcome: str, began: float, response: M, age_s: float | None
    ) -> M:
        duration = time.monotonic() - began
        run = response.run  # type: ignore[attr-defined]  # every layer response carries its analysis.v1.LayerRun
        step = Step(
            layer,
            outcome,
            duration,
            confidence=layer_confidence(layer, response),
            model_version=run.model_version,
            age_s=age_s,
            layer_ms=run.total_ms if outcome == OK else 0.0,
        )
        state.steps.append(step)
        LAYER_CALLS.labels(layer.breaker_name, outcome).inc()
        LAYER_SECONDS.labels(layer.breaker_name).observe(duration)
        return response

    async def _finish(self, state: RunState, status: str, error: str) -> None:
        confidences = {s.layer.key: s.confidence for s in state.steps if s.outcome != FAILED}
        confidence = cascade_confidence(confidences) if status != "failed" else None
        signals = len(state.response.timing.signals) if _timing_is_new(state) else 0
        event = events.run_finished(state, status, confidence, signals, error)
        state.response.run.CopyFrom(event)
        state.response.degraded_layers[:] = state.degraded_layers
        outcome = runs.RunOutcome(
            status=status,
            finished_at=datetime.now(UTC),
            layers=[s.as_json() for s in state.steps],
            model_versions={s.layer.key: s.model_version for s in state.steps if s.model_version},
            degraded_layers=state.degraded_layers,
            cascade_confidence=confidence,
            signal_count=signals,
            error=error,
            response=state.response.SerializeToString() if status != "failed" else None,
        )
        await runs.finish(self.pool, state.request.run_id, outcome, event)
        CASCADE_RUNS.labels(status, state.request.trigger).inc()
        RUN_SECONDS.labels(status).observe((outcome.finished_at - state.started_at).total_seconds())
        if status != "failed":
            LAST_COMPLETED.set(outcome.finished_at.timestamp())


def _timing_is_new(state: RunState) -> bool:
    """Signals count for a run only when Layer 4 produced them for it (not a fallback)."""
    return any(s.layer is TIMING and s.outcome == OK for s in state.steps)


def layer_confidence(layer: LayerInfo, response: Message) -> float | None:
    """The layer's term of :func:`cascade_confidence` (see ``confidence.py``)."""
    if isinstance(response, macro_pb2.AnalyzeMacroResponse):
        return response.analysis.confidence
    if isinstance(response, sector_pb2.AnalyzeSectorsResponse):
        return rotation_confidence(response.analysis.rotation_probability)
    if isinstance(response, asset_pb2.SelectAssetsResponse):
        # Layer 3's context scores the whole universe; its term is the confidence of its selection
        assets = response.context.active_assets
        return mean_or_none(a.confidence for a in ([a for a in assets if a.selected] or assets))
    if isinstance(response, timing_pb2.GenerateSignalsResponse):
        return mean_or_none(s.confidence for s in response.signals)
    raise TypeError(f"{layer.service}: unexpected response {type(response).__name__}")
