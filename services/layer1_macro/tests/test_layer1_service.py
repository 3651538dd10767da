"""Layer 1 in-process: gRPC analysis, replay of a run, the REST reads, errors, the refresh."""

from __future__ import annotations

import asyncio
import math
import uuid

import grpc
import pytest

from cp_layer_kit.testing import RunningLayer
from cp_models.registry.store import ModelRegistry
from cryptopredict.analysis.v1 import macro_pb2, macro_pb2_grpc
from cryptopredict.common.v1 import analysis_pb2 as common
from layer1_macro_service import SCHEMA


def _stub(layer1: RunningLayer) -> macro_pb2_grpc.MacroAnalysisServiceStub:
    return macro_pb2_grpc.MacroAnalysisServiceStub(layer1.channel)


async def test_analysis_carries_the_regime_the_context_and_the_model_version(layer1: RunningLayer) -> None:
    run_id = f"run-{uuid.uuid4().hex[:8]}"
    reply = await _stub(layer1).AnalyzeMacro(macro_pb2.AnalyzeMacroRequest(cascade_run_id=run_id))
    analysis = reply.analysis
    assert analysis.regime != common.REGIME_UNSPECIFIED and 0.25 <= analysis.confidence <= 1
    assert math.isclose(sum(analysis.probabilities.values()), 1.0, abs_tol=1e-6)
    assert analysis.risk_level != common.RISK_LEVEL_UNSPECIFIED and len(analysis.drivers) == 5
    assert reply.run.model_version.startswith("macro_regime_v3:") and not reply.run.replayed
    assert reply.run.cascade_run_id == run_id and reply.run.inference_ms > 0
    assert (
        reply.context.regime == analysis.regime
        and reply.context.model_versions["macro"] == reply.run.model_version
    )
    assert reply.context.recommended_exposure == analysis.recommended_exposure

    again = await _stub(layer1).AnalyzeMacro(macro_pb2.AnalyzeMacroRequest(cascade_run_id=run_id))
    assert again.run.replayed and again.run.analysis_id == reply.run.analysis_id
    assert again.analysis == reply.analysis


async def test_the_same_day_and_model_give_the_same_analysis(layer1: RunningLayer) -> None:
    first, second = [
        await _stub(layer1).AnalyzeMacro(
            macro_pb2.AnalyzeMacroRequest(cascade_run_id=f"det-{i}-{uuid.uuid4().hex[:6]}")
        )
        for i in range(2)
    ]
    assert first.analysis == second.analysis and first.run.as_of == second.run.as_of


async def test_bad_requests_are_refused_with_invalid_argument(layer1: RunningLayer) -> None:
    for request in (
        macro_pb2.AnalyzeMacroRequest(),
        macro_pb2.AnalyzeMacroRequest(cascade_run_id="has spaces"),
        macro_pb2.AnalyzeMacroRequest(cascade_run_id="ok", symbols=["btc"]),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await _stub(layer1).AnalyzeMacro(request)
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_an_as_of_before_the_market_history_is_a_failed_precondition(layer1: RunningLayer) -> None:
    request = macro_pb2.AnalyzeMacroRequest(cascade_run_id="too-early")
    request.as_of.FromJsonString("2001-01-01T00:00:00Z")
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await _stub(layer1).AnalyzeMacro(request)
    assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION


async def test_rest_reads_need_a_token_and_answer_with_the_seed_fields(layer1: RunningLayer) -> None:
    missing = await layer1.http.get("/api/v1/layer1/market-regime")
    assert missing.status_code == 401 and missing.json()["success"] is False
    headers = layer1.tokens.headers()
    for _ in range(50):  # the refresh analyses the latest day on its own
        regime = (await layer1.http.get("/api/v1/layer1/market-regime", headers=headers)).json()["data"]
        if regime["regime"] != "unknown":
            break
        await asyncio.sleep(0.1)
    assert {"regime", "confidence", "risk_level", "last_updated"} <= set(regime)
    assert regime["regime"] in {"bull", "bear", "sideways", "volatile"}
    sentiment = (await layer1.http.get("/api/v1/layer1/sentiment", headers=headers)).json()["data"]
    assert sentiment["sources"] == ["fear_greed_index", "social_media", "news", "funding_rates"]
    assert 0 <= sentiment["data"]["fear_greed"] <= 1
    dominance = (await layer1.http.get("/api/v1/layer1/dominance", headers=headers)).json()["data"]
    assert dominance["calculation_method"] == "market_cap_weighted" and dominance["data"]["btc_dominance"] > 0
    history = (await layer1.http.get("/api/v1/layer1/history?days=7&interval=1h", headers=headers)).json()[
        "data"
    ]
    assert history["period"] == "7 days" and history["interval"] == "1h"
    assert history["data_points"] == len(history["data"]) >= 1


async def test_history_limits_are_400_in_the_envelope(layer1: RunningLayer) -> None:
    headers = layer1.tokens.headers()
    too_long = await layer1.http.get("/api/v1/layer1/history?days=366", headers=headers)
    assert too_long.status_code == 400 and too_long.json()["error"] == "Maximum 365 days allowed"
    bad_interval = await layer1.http.get("/api/v1/layer1/history?interval=7m", headers=headers)
    assert bad_interval.status_code == 400 and "1h, 4h, 1d, 1w" in bad_interval.json()["error"]
    not_a_number = await layer1.http.get("/api/v1/layer1/history?days=abc", headers=headers)
    assert not_a_number.status_code == 422 and not_a_number.json()["success"] is False


async def test_the_per_user_limit_answers_429_with_retry_after_for_that_user_only(
    layer1: RunningLayer,
) -> None:
    user, other = str(uuid.uuid4()), str(uuid.uuid4())
    statuses = [
        (await layer1.http.get("/api/v1/layer1/history", headers=layer1.tokens.headers(user))).status_code
        for _ in range(21)
    ]
    if statuses.count(429) == 0:  # the fixed window turned over during the burst: once more
        statuses = [
            (await layer1.http.get("/api/v1/layer1/history", headers=layer1.tokens.headers(user))).status_code
            for _ in range(21)
        ]
    assert 429 in statuses
    limited = await layer1.http.get("/api/v1/layer1/history", headers=layer1.tokens.headers(user))
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
    assert limited.json()["error"] == "Rate limit exceeded" and limited.json()["error_code"] == 429
    assert (
        await layer1.http.get("/api/v1/layer1/history", headers=layer1.tokens.headers(other))
    ).status_code == 200


async def test_deactivating_the_model_refuses_analysis_and_activation_restores_it(
    layer1: RunningLayer,
) -> None:
    registry = ModelRegistry(layer1.kit.runtime.require_pool(), SCHEMA)
    active = await registry.active("macro_regime_v3")
    assert active is not None
    await registry.deactivate("macro_regime_v3")
    for _ in range(100):
        if layer1.kit.model.status == "inactive":
            break
        await asyncio.sleep(0.05)
    assert layer1.kit.model.status == "inactive"
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await _stub(layer1).AnalyzeMacro(
            macro_pb2.AnalyzeMacroRequest(cascade_run_id=f"x-{uuid.uuid4().hex}")
        )
    assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert refused.value.details() == "Layer 1 model not available"
    ready = (await layer1.http.get("/readyz")).json()["data"]["checks"]["model"]
    assert ready["detail"]["status"] == "inactive"
    metrics = (await layer1.http.get("/metrics")).text
    assert 'cp_layer_model_status{layer="macro",model="macro_regime_v3",status="inactive"} 1.0' in metrics
    assert 'cp_layer_model_status{layer="macro",model="macro_regime_v3",status="active"} 0.0' in metrics
    await registry.activate("macro_regime_v3", active.version)
    for _ in range(100):
        if layer1.kit.model.status == "active":
            break
        await asyncio.sleep(0.05)
    reply = await _stub(layer1).AnalyzeMacro(
        macro_pb2.AnalyzeMacroRequest(cascade_run_id=f"y-{uuid.uuid4().hex}")
    )
    assert reply.run.model_version == f"macro_regime_v3:{active.version}"
