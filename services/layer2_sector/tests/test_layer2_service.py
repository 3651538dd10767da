"""Layer 2 in-process: gRPC analysis conditioned on Layer 1, replay, the REST reads, errors."""

from __future__ import annotations

import math
import uuid

import grpc
import pytest

from cp_layer_kit.testing import RunningLayer
from cryptopredict.analysis.v1 import sector_pb2, sector_pb2_grpc
from cryptopredict.common.v1 import analysis_pb2 as common


def _stub(layer2: RunningLayer) -> sector_pb2_grpc.SectorAnalysisServiceStub:
    return sector_pb2_grpc.SectorAnalysisServiceStub(layer2.channel)


def _request(regime: int = common.REGIME_BEAR, exposure: float = 0.3) -> sector_pb2.AnalyzeSectorsRequest:
    context = common.AnalysisContext(regime=regime, recommended_exposure=exposure, regime_confidence=0.8)
    context.model_versions["macro"] = "macro_regime_v3:1"
    return sector_pb2.AnalyzeSectorsRequest(context=context, cascade_run_id=f"run-{uuid.uuid4().hex[:8]}")


async def test_sectors_are_ranked_and_the_allocation_follows_layer_1(layer2: RunningLayer) -> None:
    reply = await _stub(layer2).AnalyzeSectors(_request(exposure=0.3))
    analysis = reply.analysis
    scores = [s.momentum_score for s in analysis.sectors]
    assert len(scores) >= 5 and scores == sorted(scores, reverse=True)
    assert list(analysis.leading_sectors) == [s.sector for s in analysis.sectors[:3]]
    assert list(analysis.declining_sectors) == [s.sector for s in analysis.sectors[-2:]]
    assert 0 <= analysis.rotation_probability <= 1 and analysis.macro_regime == "bear"
    assert math.isclose(analysis.recommended_allocation["stablecoin"], 0.7, abs_tol=1e-6)
    assert math.isclose(sum(analysis.recommended_allocation.values()), 1.0, abs_tol=1e-4)
    context = reply.context
    assert dict(context.sector_allocation) == dict(analysis.recommended_allocation)
    assert list(context.leading_sectors) == list(analysis.leading_sectors)
    assert context.regime == common.REGIME_BEAR and context.model_versions["macro"] == "macro_regime_v3:1"
    assert context.model_versions["sector"] == reply.run.model_version
    assert reply.run.model_version.startswith("sector_rotation_v2:")


async def test_a_riskier_regime_moves_money_into_stablecoins(layer2: RunningLayer) -> None:
    risk_on = await _stub(layer2).AnalyzeSectors(_request(common.REGIME_BULL, 0.9))
    risk_off = await _stub(layer2).AnalyzeSectors(_request(common.REGIME_BEAR, 0.2))
    assert (
        risk_off.analysis.recommended_allocation["stablecoin"]
        > risk_on.analysis.recommended_allocation["stablecoin"]
    )
    assert [s.sector for s in risk_on.analysis.sectors] == [s.sector for s in risk_off.analysis.sectors]


async def test_a_retried_run_is_answered_from_the_store(layer2: RunningLayer) -> None:
    request = _request()
    first = await _stub(layer2).AnalyzeSectors(request)
    again = await _stub(layer2).AnalyzeSectors(request)
    assert again.run.replayed and not first.run.replayed and again.analysis == first.analysis


async def test_rest_reads_with_the_seed_fields(layer2: RunningLayer) -> None:
    await _stub(layer2).AnalyzeSectors(_request())
    headers = layer2.tokens.headers()
    listed = (await layer2.http.get("/api/v1/layer2/sectors", headers=headers)).json()["data"]
    assert listed["total_sectors"] == len(listed["data"]) >= 5 and listed["last_updated"]
    first = listed["data"][0]["sector"]
    detail = await layer2.http.get(f"/api/v1/layer2/sectors/{first}", headers=headers)
    assert detail.status_code == 200, detail.text
    data = detail.json()["data"]["data"]
    assert data["sector"] == first and data["rank"] == 1 and data["assets"] >= 1 and data["top_performers"]
    rotation = (await layer2.http.get("/api/v1/layer2/rotation", headers=headers)).json()["data"]
    assert rotation["analysis_confidence"] == rotation["data"]["confidence"]
    assert {"leading_sectors", "declining_sectors", "recommended_allocation", "flow_directions"} <= set(
        rotation["data"]
    )


async def test_an_unknown_sector_is_404_and_no_token_is_401(layer2: RunningLayer) -> None:
    missing = await layer2.http.get("/api/v1/layer2/sectors/nope", headers=layer2.tokens.headers())
    assert missing.status_code == 404 and missing.json()["error"] == "Sector not found"
    assert (await layer2.http.get("/api/v1/layer2/rotation")).status_code == 401


async def test_a_missing_run_id_is_invalid_argument(layer2: RunningLayer) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await _stub(layer2).AnalyzeSectors(sector_pb2.AnalyzeSectorsRequest())
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
