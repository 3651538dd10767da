"""Layer 3 in-process: scores for the request's watchlist, the selection, suggestions published
once while open, replay, the REST reads."""

from __future__ import annotations

import uuid

import grpc
import pytest

from cp_layer_kit.testing import RunningLayer
from cryptopredict.analysis.v1 import asset_pb2, asset_pb2_grpc
from cryptopredict.common.v1 import analysis_pb2 as common
from cryptopredict.common.v1 import watchlists_pb2 as watchlists

TIER1 = ["BTC", "ETH", "SOL", "ADA", "AVAX", "LINK", "DOT", "XRP"]
TIER2 = ["LTC", "UNI", "ATOM", "AAVE", "DOGE", "TRX", "MATIC", "SHIB", "XLM", "BCH"]


def _stub(layer3: RunningLayer) -> asset_pb2_grpc.AssetSelectionServiceStub:
    return asset_pb2_grpc.AssetSelectionServiceStub(layer3.channel)


def _request(declining_sectors: tuple[str, ...] = ()) -> asset_pb2.SelectAssetsRequest:
    return asset_pb2.SelectAssetsRequest(
        context=common.AnalysisContext(declining_sectors=declining_sectors),
        cascade_run_id=f"run-{uuid.uuid4().hex[:8]}",
        tier1_symbols=TIER1,
        tier2_symbols=TIER2,
    )


async def _outbox(layer3: RunningLayer, topic: str) -> int:
    pool = layer3.kit.runtime.require_pool()
    return int(await pool.fetchval("SELECT count(*) FROM outbox WHERE topic = $1", topic))


async def test_the_watchlist_is_scored_with_reasons_and_the_selection_goes_to_the_context(
    layer3: RunningLayer,
) -> None:
    reply = await _stub(layer3).SelectAssets(_request())
    analysis = reply.analysis
    assert {a.symbol for a in analysis.tier1} == set(TIER1) and {a.symbol for a in analysis.tier2} == set(
        TIER2
    )
    assert all(a.tier == watchlists.WATCHLIST_TIER_1 for a in analysis.tier1)
    scores = [a.score for a in analysis.tier1]
    assert scores == sorted(scores, reverse=True) and all(0 < s <= 1 for s in scores)
    first = analysis.tier1[0]
    assert first.reason.startswith(f"score {first.score:.2f}") and "30-day return" in first.reason
    assert first.features["mom_30d"] == pytest.approx(first.features["mom_30d"]) and first.sector
    assert set(analysis.selected) <= set(TIER1) and len(analysis.selected) >= 1
    # the context carries every asset of the day (Layer 4 ranks them all), the selection flagged
    context = reply.context.active_assets
    assert [a.symbol for a in context if a.selected] == list(analysis.selected)
    assert len(context) > len(TIER1) + len(TIER2) and len({a.symbol for a in context}) == len(context)
    context_scores = [a.ai_score for a in context]
    assert context_scores == sorted(context_scores, reverse=True) and all(0 < s <= 1 for s in context_scores)
    tier_of = {a.symbol: a.tier for a in context}
    assert all(tier_of[s] == watchlists.WATCHLIST_TIER_1 for s in TIER1)
    assert all(tier_of[s] == watchlists.WATCHLIST_TIER_2 for s in TIER2)
    assert reply.context.model_versions["asset"] == reply.run.model_version


async def test_declining_sectors_are_left_out_of_the_selection(layer3: RunningLayer) -> None:
    everything = await _stub(layer3).SelectAssets(_request())
    sectors = {a.symbol: a.sector for a in everything.analysis.tier1}
    blocked = sectors[everything.analysis.selected[0]]
    without = await _stub(layer3).SelectAssets(_request(declining_sectors=(blocked,)))
    assert without.analysis.selected and all(sectors[s] != blocked for s in without.analysis.selected)


async def test_an_open_suggestion_is_published_once(layer3: RunningLayer) -> None:
    first = await _stub(layer3).SelectAssets(_request())
    suggestions = list(first.analysis.suggestions)
    assert suggestions, "the simulated market gives suggestions for this watchlist"
    types = {s.suggestion_type for s in suggestions}
    assert types <= {
        watchlists.SUGGESTION_TYPE_PROMOTE_TO_TIER1,
        watchlists.SUGGESTION_TYPE_ADD_TIER2,
        watchlists.SUGGESTION_TYPE_DEMOTE_TO_TIER2,
        watchlists.SUGGESTION_TYPE_REMOVE_FROM_TIER2,
    }
    published = await _outbox(layer3, "watchlist.suggestions.v1")
    second = await _stub(layer3).SelectAssets(_request())
    assert [s.published for s in second.analysis.suggestions] == [False] * len(second.analysis.suggestions)
    assert {s.suggestion_id for s in second.analysis.suggestions} <= {s.suggestion_id for s in suggestions}
    assert await _outbox(layer3, "watchlist.suggestions.v1") == published


async def test_a_retried_run_stores_and_publishes_once(layer3: RunningLayer) -> None:
    request = _request()
    before = await _outbox(layer3, "analysis.asset.v1")
    first = await _stub(layer3).SelectAssets(request)
    again = await _stub(layer3).SelectAssets(request)
    assert again.run.replayed and again.analysis == first.analysis
    assert await _outbox(layer3, "analysis.asset.v1") == before + len(TIER1) + len(TIER2)


async def test_the_default_watchlist_applies_without_tiers(layer3: RunningLayer) -> None:
    reply = await _stub(layer3).SelectAssets(
        asset_pb2.SelectAssetsRequest(cascade_run_id=f"d-{uuid.uuid4().hex}")
    )
    assert {a.symbol for a in reply.analysis.tier1} == {
        "BTC",
        "ETH",
        "BNB",
        "SOL",
        "XRP",
        "ADA",
        "AVAX",
        "LINK",
        "DOT",
        "DOGE",
    }


async def test_rest_lists_assets_and_one_asset_with_its_reason(layer3: RunningLayer) -> None:
    await _stub(layer3).SelectAssets(_request())
    headers = layer3.tokens.headers()
    listed = (await layer3.http.get("/api/v1/layer3/assets", headers=headers)).json()["data"]
    assert listed["total_assets"] == len(TIER1) + len(TIER2) and listed["model_version"].startswith(
        "asset_tier1_v4:"
    )
    one = (await layer3.http.get("/api/v1/layer3/assets/btc", headers=headers)).json()["data"]
    assert one["data"]["symbol"] == "BTC" and one["data"]["reason"] and one["data"]["features"]
    missing = await layer3.http.get("/api/v1/layer3/assets/NOPE", headers=headers)
    assert missing.status_code == 404 and missing.json()["error"] == "Asset not found"
    bad = await layer3.http.get("/api/v1/layer3/assets/not-a-symbol", headers=headers)
    assert bad.status_code == 422


async def test_bad_tier_symbols_are_invalid_argument(layer3: RunningLayer) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await _stub(layer3).SelectAssets(
            asset_pb2.SelectAssetsRequest(cascade_run_id="x", tier1_symbols=["b t c"])
        )
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
