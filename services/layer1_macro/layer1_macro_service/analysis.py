"""Layer 1's glue: ``MacroRegimeModel.predict`` on the day's market rows -> proto, view, event."""

from __future__ import annotations

import math
from typing import Any

from cp_common import topics
from cp_layer_kit.analysis import Analysis, Call
from cp_layer_kit.convert import finite_map, json_number, number, regime, risk_level
from cp_models.layers.l1_macro import MacroRegimeModel, MacroRegimeResult
from cryptopredict.analysis.v1 import layer_pb2, macro_pb2
from cryptopredict.common.v1 import analysis_pb2 as common
from cryptopredict.events.v1 import analysis_pb2 as events

#: Run ids of analyses Layer 1 makes on its own start with this (no cascade run).
MARKET_RUN_PREFIX = "market:"


def _analysis(result: MacroRegimeResult) -> macro_pb2.MacroAnalysis:
    sentiment = result.sentiment_breakdown
    return macro_pb2.MacroAnalysis(
        regime=regime(result.regime),
        confidence=result.confidence,
        probabilities=finite_map(result.probabilities, digits=None),
        risk_level=risk_level(result.risk_level),
        risk_score=result.risk_score,
        trend_strength=result.trend_strength,
        recommended_exposure=result.recommended_exposure,
        current_state=result.current_state or "",
        sentiment=macro_pb2.MacroSentiment(
            fear_greed=number(sentiment.get("fear_greed")),
            fear_greed_label=str(sentiment.get("fear_greed_label") or ""),
            fear_greed_change_7d=number(sentiment.get("fear_greed_change_7d")),
            btc_dominance=number(sentiment.get("btc_dominance")),
            btc_dominance_change_30d=number(sentiment.get("btc_dominance_change_30d")),
        ),
        drivers=[
            layer_pb2.Driver(feature=d.feature, value=d.value, contribution=d.contribution, effect=d.effect)
            for d in result.drivers
        ],
    )


def _context(call: Call, result: MacroRegimeResult) -> common.AnalysisContext:
    context = common.AnalysisContext()
    context.CopyFrom(call.request.context)
    context.regime = regime(result.regime)
    context.regime_confidence = result.confidence
    context.risk_level = risk_level(result.risk_level)
    context.recommended_exposure = result.recommended_exposure
    context.cascade_run_id = call.request.cascade_run_id
    context.as_of.FromDatetime(call.day.to_pydatetime())
    context.model_versions["macro"] = call.model.label
    return context


def sentiment_view(result: MacroRegimeResult) -> dict[str, Any]:
    """The seed's sentiment breakdown (fear_greed as index / 100; no social/news/funding feed yet)."""
    raw = result.sentiment_breakdown
    index = json_number(raw.get("fear_greed"))
    return {
        "fear_greed": None if index is None else round(index / 100, 4),
        "fear_greed_index": index,
        "fear_greed_label": raw.get("fear_greed_label"),
        "fear_greed_change_7d": json_number(raw.get("fear_greed_change_7d")),
        "social": None,
        "news": None,
        "funding": None,
    }


def _view(result: MacroRegimeResult) -> dict[str, Any]:
    return {
        "regime": result.regime,
        "confidence": round(result.confidence, 6),
        "risk_level": result.risk_level,
        "risk_score": round(result.risk_score, 6),
        "trend_strength": round(result.trend_strength, 6),
        "recommended_exposure": round(result.recommended_exposure, 6),
        "probabilities": finite_map(result.probabilities),
        "current_state": result.current_state,
        "sentiment": sentiment_view(result),
        "btc_dominance_change_30d": json_number(result.sentiment_breakdown.get("btc_dominance_change_30d")),
        "drivers": [
            {"feature": d.feature, "value": json_number(d.value), "effect": d.effect} for d in result.drivers
        ],
    }


def _event(
    call: Call, result: MacroRegimeResult, analysis: macro_pb2.MacroAnalysis
) -> events.MacroRegimeAnalyzed:
    run_id = call.request.cascade_run_id
    fear_greed = analysis.sentiment.fear_greed
    event = events.MacroRegimeAnalyzed(
        analysis_id=call.analysis_id,
        regime=analysis.regime,
        confidence=result.confidence,
        risk_level=analysis.risk_level,
        trend_strength=result.trend_strength,
        recommended_exposure=result.recommended_exposure,
        sentiment_breakdown=common.SentimentBreakdown(
            fear_greed=fear_greed / 100 if math.isfinite(fear_greed) else math.nan,
            social=math.nan,
            news=math.nan,
            funding=math.nan,
        ),
        drivers=[f"{d.feature} {d.effect} {result.regime}" for d in result.drivers],
        model_version=call.model.label,
        cascade_run_id="" if run_id.startswith(MARKET_RUN_PREFIX) else run_id,
    )
    event.analyzed_at.GetCurrentTime()
    return event


def compute(call: Call) -> Analysis:
    model: MacroRegimeModel = call.model.model
    result = call.timer.measure(model.predict, call.inputs.market_window(call.day))
    analysis = _analysis(result)
    response = macro_pb2.AnalyzeMacroResponse(analysis=analysis, context=_context(call, result))
    return Analysis(
        response=response,
        view=_view(result),
        events=[(topics.ANALYSIS_MACRO, [_event(call, result, analysis)])],
    )
