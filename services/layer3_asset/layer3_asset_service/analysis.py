"""Layer 3's glue: ``AssetSelectionModel.predict`` on the day's asset rows for the request's
watchlist -> proto, view, events.

The selection is the model's, minus assets of the sectors Layer 2 declared declining (the
cascade's rule, ``cp_models.cascade.active_assets``), at most ``LAYER3_MAX_SELECTED``. An
asset's confidence is its score (the percentile of its predicted risk-adjusted return in the
scanned universe).

The context handed to Layer 4 carries the score of every asset of the day (``active_assets``,
the selection flagged ``selected``): Layer 4's book (``cp_models.signals.day_signals``) ranks
the whole universe, so a context with the selection alone would give other signals than the
backtest. Those scores are the percentiles among all the day's rows (``day_scores``), one
scale with the order the book ranks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from cp_common import topics
from cp_common.proto_enums import to_proto
from cp_layer_kit.analysis import Analysis, Call, check_symbols
from cp_layer_kit.convert import finite_map, json_number, risk_level
from cp_models.layers.l3_asset import EXPLAIN_FEATURES, AssetScore, AssetSelectionModel, AssetSelectionResult
from cryptopredict.analysis.v1 import asset_pb2
from cryptopredict.common.v1 import analysis_pb2 as common
from cryptopredict.common.v1 import watchlists_pb2 as watchlists
from cryptopredict.events.v1 import analysis_pb2 as events
from layer3_asset_service.suggestions import deduplicate

TIER_NAMES = {watchlists.WATCHLIST_TIER_1: "tier1", watchlists.WATCHLIST_TIER_2: "tier2"}


@dataclass(frozen=True)
class Watchlist:
    """The scanned universe (by market cap) and the tiers of one request."""

    universe: list[str]
    tier1: list[str]
    tier2: list[str]
    previous_scores: dict[str, float]
    max_selected: int
    reopen_after: timedelta


def reason(asset: AssetScore, rank: int, count: int) -> str:
    """A readable account of the score from the features behind it."""
    parts = [
        f"{label} {asset.supporting_features[name]:+.3g}"
        for name, label in EXPLAIN_FEATURES.items()
        if name in asset.supporting_features
    ][:4]
    return f"score {asset.score:.2f} (#{rank} of {count} by predicted risk-adjusted return): " + "; ".join(
        parts
    )


def _assessment(
    asset: AssetScore, tier: watchlists.WatchlistTier, sector: str, rank: int, count: int
) -> asset_pb2.AssetAssessment:
    return asset_pb2.AssetAssessment(
        symbol=asset.symbol,
        tier=tier,
        sector=sector,
        score=asset.score,
        light_score=asset.light_score,
        risk_level=risk_level(asset.risk_level),
        recommendation=asset.recommendation,
        features=finite_map(asset.supporting_features, digits=None),
        reason=reason(asset, rank, count),
    )


def _assessments(call: Call, result: AssetSelectionResult) -> list[asset_pb2.AssetAssessment]:
    sector_of = call.inputs.data.sector_of
    ranked = sorted([*result.tier1_analysis, *result.tier2_opportunities], key=lambda a: -a.score)
    rank = {a.symbol: i for i, a in enumerate(ranked, start=1)}
    count = len(call.inputs.asset_rows(call.day))
    return [
        *(
            _assessment(a, watchlists.WATCHLIST_TIER_1, sector_of(a.symbol), rank[a.symbol], count)
            for a in result.tier1_analysis
        ),
        *(
            _assessment(a, watchlists.WATCHLIST_TIER_2, sector_of(a.symbol), rank[a.symbol], count)
            for a in result.tier2_opportunities
        ),
    ]


def _selected(call: Call, result: AssetSelectionResult, limit: int) -> list[str]:
    declining = set(call.request.context.declining_sectors)
    keep = [s for s in result.selected_assets if call.inputs.data.sector_of(s) not in declining]
    return keep[:limit]


def _suggestions(result: AssetSelectionResult) -> list[asset_pb2.WatchlistSuggestion]:
    return [
        asset_pb2.WatchlistSuggestion(
            symbol=s.symbol,
            suggestion_type=to_proto(watchlists.SuggestionType, s.action),
            confidence=s.confidence,
            reasoning=s.reason,
            supporting_data=finite_map(s.supporting_data, digits=None),
        )
        for s in result.suggestions
    ]


def _context_assets(
    result: AssetSelectionResult, assessments: list[asset_pb2.AssetAssessment], selected: list[str]
) -> list[common.AssetScore]:
    """Every scored asset of the day, best first: Layer 4 ranks them all (``day_signals``)."""
    assessed = {a.symbol: a for a in reversed(assessments)}  # tier 1 wins over tier 2
    chosen = set(selected)
    ranked = sorted(result.day_scores.items(), key=lambda item: (-item[1], item[0]))
    out = []
    for symbol, score in ranked:
        a = assessed.get(symbol)
        out.append(
            common.AssetScore(
                symbol=symbol,
                ai_score=score,
                confidence=score,
                risk_level=a.risk_level if a else common.RISK_LEVEL_UNSPECIFIED,
                recommendation=a.recommendation if a else "",
                tier=a.tier if a else watchlists.WATCHLIST_TIER_UNSPECIFIED,
                selected=symbol in chosen,
            )
        )
    return out


def _context(call: Call, assets: list[common.AssetScore]) -> common.AnalysisContext:
    context = common.AnalysisContext()
    context.CopyFrom(call.request.context)
    del context.active_assets[:]
    context.active_assets.extend(assets)
    context.cascade_run_id = call.request.cascade_run_id
    if not context.HasField("as_of"):
        context.as_of.FromDatetime(call.day.to_pydatetime())
    context.model_versions["asset"] = call.model.label
    return context


def _asset_view(a: asset_pb2.AssetAssessment, selected: set[str]) -> dict[str, Any]:
    return {
        "symbol": a.symbol,
        "tier": TIER_NAMES.get(a.tier),
        "sector": a.sector,
        "score": round(a.score, 6),
        "light_score": round(a.light_score, 6),
        "risk_level": common.RiskLevel.Name(a.risk_level).removeprefix("RISK_LEVEL_").lower(),
        "recommendation": a.recommendation,
        "selected": a.symbol in selected,
        "reason": a.reason,
        "features": finite_map(dict(a.features)),
    }


def _view(analysis: asset_pb2.AssetAnalysis, result: AssetSelectionResult) -> dict[str, Any]:
    selected = set(analysis.selected)
    return {
        "assets": [_asset_view(a, selected) for a in (*analysis.tier1, *analysis.tier2)],
        "selected": list(analysis.selected),
        "suggestions": [
            {
                "symbol": s.symbol,
                "type": s.action,
                "confidence": json_number(s.confidence),
                "reason": s.reason,
            }
            for s in result.suggestions
        ],
    }


def _events(call: Call, analysis: asset_pb2.AssetAnalysis) -> list[events.AssetScored]:
    selected = set(analysis.selected)
    out = []
    for a in (*analysis.tier1, *analysis.tier2):
        event = events.AssetScored(
            analysis_id=call.analysis_id,
            symbol=a.symbol,
            tier=a.tier,
            ai_score=a.score,
            confidence=a.score,
            risk_level=a.risk_level,
            recommendation=a.recommendation,
            selected=a.symbol in selected,
            model_version=call.model.label,
            cascade_run_id=call.request.cascade_run_id,
        )
        event.analyzed_at.GetCurrentTime()
        out.append(event)
    return out


def compute(call: Call, watchlist: Watchlist) -> Analysis:
    model: AssetSelectionModel = call.model.model
    result = call.timer.measure(
        model.predict,
        call.inputs.asset_rows(call.day),
        {"tier1": watchlist.tier1, "tier2": watchlist.tier2},
        watchlist.universe,
        watchlist.previous_scores,
        watchlist.max_selected,
        call.day.isoformat(),
    )
    assessments = _assessments(call, result)
    tier1 = [a for a in assessments if a.tier == watchlists.WATCHLIST_TIER_1]
    analysis = asset_pb2.AssetAnalysis(
        tier1=tier1,
        tier2=[a for a in assessments if a.tier == watchlists.WATCHLIST_TIER_2],
        suggestions=_suggestions(result),
        selected=_selected(call, result, watchlist.max_selected),
    )
    assets = _context_assets(result, assessments, list(analysis.selected))
    response = asset_pb2.SelectAssetsResponse(analysis=analysis, context=_context(call, assets))
    return Analysis(
        response=response,
        view=_view(analysis, result),
        events=[(topics.ANALYSIS_ASSET, _events(call, analysis))],
        finalize=deduplicate(watchlist.reopen_after),
    )


def tiers(
    request: asset_pb2.SelectAssetsRequest, default_tier1: list[str], default_tier2: list[str]
) -> tuple[list[str], list[str]]:
    """The request's tiers, or the configured default watchlist when it brings none."""
    tier1 = check_symbols(request.tier1_symbols, "tier1_symbols")
    tier2 = check_symbols(request.tier2_symbols, "tier2_symbols")
    if not tier1 and not tier2:
        return list(default_tier1), list(default_tier2)
    return tier1, [s for s in tier2 if s not in set(tier1)]
