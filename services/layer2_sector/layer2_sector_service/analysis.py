"""Layer 2's glue: ``SectorRotationModel.predict`` on the day's sector rows, conditioned on the
upstream context's regime and exposure -> proto, view, event."""

from __future__ import annotations

from typing import Any

from cp_common import topics
from cp_common.proto_enums import from_proto
from cp_layer_kit.analysis import Analysis, Call
from cp_layer_kit.convert import finite_map, json_number
from cp_models.layers.l2_sector import SectorRotationModel, SectorRotationResult
from cryptopredict.analysis.v1 import sector_pb2
from cryptopredict.common.v1 import analysis_pb2 as common
from cryptopredict.events.v1 import analysis_pb2 as events

#: The seed's regime when the context has none.
DEFAULT_REGIME = "neutral"


def macro_context(context: common.AnalysisContext) -> dict[str, Any] | None:
    """The Layer 1 result the model is conditioned on (None: the model's defaults)."""
    if context.regime == common.REGIME_UNSPECIFIED:
        return None
    return {
        "regime": from_proto(common.Regime, context.regime, DEFAULT_REGIME),
        "recommended_exposure": context.recommended_exposure,
    }


def confidence(result: SectorRotationResult) -> float:
    """How clearly the leaders lead: mean score of the leading minus the declining sectors (0..1)."""
    scores = result.momentum_scores
    lead = [scores[s] for s in result.leading_sectors]
    lag = [scores[s] for s in result.declining_sectors]
    if not lead or not lag:
        return 0.0
    return max(0.0, min(1.0, sum(lead) / len(lead) - sum(lag) / len(lag)))


def flows(result: SectorRotationResult) -> list[events.SectorFlow]:
    """Money moving out of each outflow sector into each inflow sector, by score gap."""
    scores = result.momentum_scores
    out = [s for s, d in result.flow_directions.items() if d == "outflow"]
    into = [s for s, d in result.flow_directions.items() if d == "inflow"]
    return [
        events.SectorFlow(from_sector=a, to_sector=b, strength=max(0.0, min(1.0, scores[b] - scores[a])))
        for a in out
        for b in into
        if a in scores and b in scores
    ]


def _analysis(result: SectorRotationResult) -> sector_pb2.SectorAnalysis:
    return sector_pb2.SectorAnalysis(
        sectors=[
            sector_pb2.SectorScore(
                sector=name,
                momentum_score=score,
                relative_strength=result.relative_strength.get(name, float("nan")),
                flow=result.flow_directions.get(name, "neutral"),
            )
            for name, score in result.momentum_scores.items()
        ],
        leading_sectors=result.leading_sectors,
        declining_sectors=result.declining_sectors,
        rotation_probability=result.rotation_probability,
        recommended_allocation=finite_map(result.recommended_allocation, digits=None),
        macro_regime=result.macro_regime,
    )


def _context(call: Call, result: SectorRotationResult) -> common.AnalysisContext:
    context = common.AnalysisContext()
    context.CopyFrom(call.request.context)
    context.sector_allocation.clear()
    context.sector_allocation.update(finite_map(result.recommended_allocation, digits=None))
    del context.leading_sectors[:]
    context.leading_sectors.extend(result.leading_sectors)
    del context.declining_sectors[:]
    context.declining_sectors.extend(result.declining_sectors)
    context.cascade_run_id = call.request.cascade_run_id
    if not context.HasField("as_of"):
        context.as_of.FromDatetime(call.day.to_pydatetime())
    context.model_versions["sector"] = call.model.label
    return context


def _view(result: SectorRotationResult) -> dict[str, Any]:
    return {
        "sectors": [
            {
                "sector": name,
                "momentum_score": round(score, 6),
                "relative_strength": json_number(result.relative_strength.get(name)),
                "flow": result.flow_directions.get(name, "neutral"),
                "rank": rank,
            }
            for rank, (name, score) in enumerate(result.momentum_scores.items(), start=1)
        ],
        "leading_sectors": result.leading_sectors,
        "declining_sectors": result.declining_sectors,
        "rotation_probability": round(result.rotation_probability, 6),
        "recommended_allocation": finite_map(result.recommended_allocation),
        "flow_directions": [
            {"from": f.from_sector, "to": f.to_sector, "strength": round(f.strength, 4)}
            for f in flows(result)
        ],
        "macro_regime": result.macro_regime,
        "confidence": round(confidence(result), 6),
    }


def _event(
    call: Call, result: SectorRotationResult, context: common.AnalysisContext
) -> events.SectorRotationAnalyzed:
    event = events.SectorRotationAnalyzed(
        analysis_id=call.analysis_id,
        leading_sectors=result.leading_sectors,
        declining_sectors=result.declining_sectors,
        rotation_probability=result.rotation_probability,
        recommended_allocation=finite_map(result.recommended_allocation, digits=None),
        momentum_scores=finite_map(result.momentum_scores, digits=None),
        flow_directions=flows(result),
        macro_regime=context.regime,
        confidence=confidence(result),
        model_version=call.model.label,
        cascade_run_id=call.request.cascade_run_id,
    )
    event.analyzed_at.GetCurrentTime()
    return event


def compute(call: Call) -> Analysis:
    model: SectorRotationModel = call.model.model
    result = call.timer.measure(
        model.predict,
        call.inputs.sector_rows(call.day),
        call.inputs.rotation_rows(call.day),
        macro_context(call.request.context),
        call.day.isoformat(),
    )
    context = _context(call, result)
    response = sector_pb2.AnalyzeSectorsResponse(analysis=_analysis(result), context=context)
    return Analysis(
        response=response,
        view=_view(result),
        events=[(topics.ANALYSIS_SECTOR, [_event(call, result, context)])],
    )
