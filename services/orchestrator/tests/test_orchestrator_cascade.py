"""The cascade against real gRPC layer servers (scripted) and the orchestrator's real lifespan:
four sections and a stored run with its events, 503 naming the layer, the bounded-staleness
fallback, the breaker opening, failing fast, half-opening and closing, a hanging layer cut at its
deadline, one retry, quick reusing Layers 1 and 2, and the role-checked dashboards."""

from __future__ import annotations

import asyncio
import json
import time
import uuid

import grpc
import pybreaker

from cryptopredict.events.v1 import cascade_pb2
from cryptopredict.orchestrator.v1 import orchestrator_pb2, orchestrator_pb2_grpc
from orchestrator_service import triggers

from .conftest import DEADLINE_S, RESET_S


def _auth(tokens, role: str = "professional") -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens.token(role=role)}"}


async def _full(orchestrator, tokens, **body):
    async with orchestrator.client() as client:
        return await client.post("/api/v1/analysis/full", json=body, headers=_auth(tokens))


async def _forget_latest(parts, layer: int) -> None:
    await parts.pool.execute("DELETE FROM layer_latest WHERE layer = $1", layer)


async def test_a_full_cascade_returns_four_sections_and_stores_the_run(
    orchestrator, tokens, parts, layers
) -> None:
    answer = await _full(orchestrator, tokens, symbols=["btc", "ETH", "ADA"])
    assert answer.status_code == 200, answer.text
    data = answer.json()["data"]
    assert data["macro"]["regime"] == "bull"
    assert data["sector"]["leading_sectors"] == ["layer1", "defi", "meme"]
    assert [a["symbol"] for a in data["assets"]["context"]["active_assets"]] == ["BTC", "ETH"]
    assert len(data["timing"]["signals"]) == 2
    assert data["status"] == "succeeded" and not data["degraded"]
    assert data["signal_count"] == 2
    assert set(data["timings"]["layers"]) == {"macro", "sector", "asset", "timing"}
    assert data["model_versions"]["macro"] == "macro_regime_v3:1"
    expected = (0.8 * 0.7 * 0.9 * 0.75) ** 0.25  # L1 0.8, L2 max(0.3, 0.7), L3 0.9, L4 0.75
    assert abs(data["cascade_confidence"] - expected) < 1e-9
    # every layer saw the same run id (the layers' idempotency key)
    run_id = data["run_id"]
    assert all(layers.by_number(n).run_ids == [run_id] for n in (1, 2, 3, 4))
    row = await parts.pool.fetchrow("SELECT status, signal_count FROM cascade_runs WHERE run_id = $1", run_id)
    assert (row["status"], row["signal_count"]) == ("succeeded", 2)
    payloads = await parts.pool.fetch(
        "SELECT payload FROM outbox WHERE topic = 'cascade.runs.v1' ORDER BY id DESC LIMIT 2"
    )
    statuses = [cascade_pb2.CascadeRunUpdated.FromString(bytes(p["payload"])).status for p in payloads]
    assert statuses == [cascade_pb2.CASCADE_RUN_STATUS_SUCCEEDED, cascade_pb2.CASCADE_RUN_STATUS_RUNNING]
    async with orchestrator.client() as client:
        listed = (await client.get("/api/v1/analysis/runs", headers=_auth(tokens))).json()["data"]["runs"]
        one = await client.get(f"/api/v1/analysis/runs/{run_id}", headers=_auth(tokens))
        missing = await client.get("/api/v1/analysis/runs/nope", headers=_auth(tokens))
    assert run_id in [r["run_id"] for r in listed]
    assert one.json()["data"]["macro"]["regime"] == "bull"
    assert missing.status_code == 404


async def test_layer1_down_without_fallback_is_503_naming_it(orchestrator, tokens, parts, layers) -> None:
    await _forget_latest(parts, 1)
    layers.macro.mode = "fail"
    answer = await _full(orchestrator, tokens, symbols=["BTC"])
    assert answer.status_code == 503, answer.text
    assert "Layer 1 service unavailable" in answer.text
    assert layers.macro.calls == 2  # the call and its one retry
    assert layers.sector.calls == 0
    failed = await parts.pool.fetchrow(
        "SELECT status, error, layers FROM cascade_runs ORDER BY started_at DESC LIMIT 1"
    )
    assert failed["status"] == "failed" and failed["error"] == "Layer 1 service unavailable"


async def test_layer1_down_with_a_fresh_fallback_is_200_degraded(orchestrator, tokens, parts, layers) -> None:
    assert (await _full(orchestrator, tokens, symbols=["BTC"])).status_code == 200
    layers.macro.mode = "fail"
    answer = await _full(orchestrator, tokens, symbols=["BTC"])
    assert answer.status_code == 200, answer.text
    data = answer.json()["data"]
    assert data["degraded"] and data["degraded_layers"] == ["macro"]
    assert data["timings"]["layers"]["macro"]["outcome"] == "stale_fallback"
    assert data["macro"]["regime"] == "bull"
    assert data["assets"]["context"]["degraded"] is True


async def test_the_breaker_opens_after_five_failures_fails_fast_then_half_opens_and_closes(
    orchestrator, tokens, parts, layers
) -> None:
    await _forget_latest(parts, 1)
    breaker = parts.guards[1].breaker
    layers.macro.mode = "fail"
    for _ in range(5):
        assert (await _full(orchestrator, tokens, symbols=["BTC"])).status_code == 503
    assert breaker.current_state == pybreaker.STATE_OPEN
    calls = layers.macro.calls
    began = time.monotonic()
    answer = await _full(orchestrator, tokens, symbols=["BTC"])
    fast = time.monotonic() - began
    assert answer.status_code == 503 and "Layer 1 service unavailable" in answer.text
    assert layers.macro.calls == calls  # the network was not touched
    assert fast < 0.5, fast
    layers.macro.mode = "ok"
    await asyncio.sleep(RESET_S + 0.1)
    assert breaker.current_state == pybreaker.STATE_OPEN  # half-open happens on the next call
    assert (await _full(orchestrator, tokens, symbols=["BTC"])).status_code == 200
    assert breaker.current_state == pybreaker.STATE_CLOSED
    assert layers.macro.calls == calls + 1


async def test_a_hanging_layer_is_cut_at_its_deadline(orchestrator, tokens, parts, layers) -> None:
    await _forget_latest(parts, 3)
    layers.asset.mode = "hang"
    began = time.monotonic()
    answer = await _full(orchestrator, tokens, symbols=["BTC"])
    took = time.monotonic() - began
    assert answer.status_code == 503 and "Layer 3 service unavailable" in answer.text
    assert DEADLINE_S <= took < DEADLINE_S + 1.5, took
    row = await parts.pool.fetchrow("SELECT layers FROM cascade_runs ORDER BY started_at DESC LIMIT 1")
    asset = next(layer for layer in _json(row["layers"]) if layer["name"] == "asset")
    assert asset["outcome"] == "failed" and "deadline" in asset["error"]
    assert DEADLINE_S * 1000 <= asset["duration_ms"] < (DEADLINE_S + 1) * 1000


async def test_one_retry_rides_over_a_blip(orchestrator, tokens, parts, layers) -> None:
    layers.sector.fail_times = 1
    answer = await _full(orchestrator, tokens, symbols=["BTC"])
    assert answer.status_code == 200, answer.text
    assert answer.json()["data"]["status"] == "succeeded"
    assert layers.sector.calls == 2


async def test_invalid_requests_are_rejected_and_do_not_count_against_a_layer(
    orchestrator, tokens, parts, layers
) -> None:
    async with orchestrator.client() as client:
        bad_symbol = await client.post(
            "/api/v1/analysis/full", json={"symbols": ["B!"]}, headers=_auth(tokens)
        )
        quick_empty = await client.post("/api/v1/analysis/quick", json={}, headers=_auth(tokens))
        extra = await client.post("/api/v1/analysis/full", json={"nope": 1}, headers=_auth(tokens))
        anonymous = await client.post("/api/v1/analysis/full", json={})
    assert bad_symbol.status_code == 422 and quick_empty.status_code == 422 and extra.status_code == 422
    assert anonymous.status_code == 401
    layers.asset.mode, layers.asset.code = "fail", grpc.StatusCode.INVALID_ARGUMENT
    answer = await _full(orchestrator, tokens, symbols=["BTC"])
    assert answer.status_code == 400, answer.text
    assert parts.guards[3].breaker.fail_counter == 0


async def test_quick_reuses_fresh_layer1_and_2_results(orchestrator, tokens, parts, layers) -> None:
    assert (await _full(orchestrator, tokens, symbols=["BTC"])).status_code == 200
    layers.reset()

    async def quick() -> int:
        async with orchestrator.client() as client:
            r = await client.post(
                "/api/v1/analysis/quick", json={"symbols": ["BTC", "ETH"]}, headers=_auth(tokens)
            )
            return r.status_code

    statuses = await asyncio.gather(*(quick() for _ in range(20)))
    assert statuses == [200] * 20
    assert layers.macro.calls == 0 and layers.sector.calls == 0
    assert layers.asset.calls == 20 and layers.timing.calls == 20


async def test_a_retried_run_id_updates_one_row(orchestrator, tokens, parts, layers) -> None:
    run_id = f"retry-{uuid.uuid4().hex[:8]}"
    first = await _full(orchestrator, tokens, symbols=["BTC"], run_id=run_id)
    second = await _full(orchestrator, tokens, symbols=["BTC"], run_id=run_id)
    assert first.status_code == second.status_code == 200
    assert second.json()["data"]["attempts"] == 2
    assert await parts.pool.fetchval("SELECT count(*) FROM cascade_runs WHERE run_id = $1", run_id) == 1
    assert layers.timing.run_ids == [run_id, run_id]  # the same idempotency key both times


async def test_dashboards_are_role_checked_and_built_from_the_latest_run(
    orchestrator, tokens, parts, layers
) -> None:
    assert (await _full(orchestrator, tokens, symbols=["BTC", "ETH"])).status_code == 200
    async with orchestrator.client() as client:
        pro = await client.get("/api/v1/dashboard/professional", headers=_auth(tokens, "professional"))
        pro_as_casual = await client.get("/api/v1/dashboard/professional", headers=_auth(tokens, "casual"))
        casual = await client.get("/api/v1/dashboard/casual", headers=_auth(tokens, "casual"))
        anonymous = await client.get("/api/v1/dashboard/casual")
    assert pro.status_code == 200 and pro_as_casual.status_code == 403 and anonymous.status_code == 401
    data = pro.json()["data"]
    assert set(data) >= {"layer_data", "active_signals", "portfolio_analysis"}
    assert len(data["active_signals"]) == 2
    assert abs(data["portfolio_analysis"]["long_position_size"] - 0.10) < 1e-9
    view = casual.json()["data"]
    assert view["simple_overview"]["market_mood"] == "bull"
    assert "bull" in view["simple_overview"]["summary"] and "80%" in view["simple_overview"]["summary"]
    assert [r["symbol"] for r in view["guided_recommendations"]] == ["BTC", "ETH"]
    topics = [item["topic"] for item in view["educational_content"]]
    assert "What a bull market means" in topics
    example = view["educational_content"][-1]["content"]
    assert "BTC" in example and "95" in example and "110" in example


def _json(value: str) -> list[dict]:
    return json.loads(value)


async def test_a_scheduled_slot_is_run_by_one_replica(parts, layers) -> None:
    interval = 300.0
    now = time.time()
    ran = await asyncio.gather(*(triggers.schedule_once(parts, now, interval) for _ in range(3)))
    assert sorted(ran) == [False, False, True]
    assert layers.macro.calls == 1
    slot = triggers.slot_of(now, interval)
    row = await parts.pool.fetchrow(
        "SELECT trigger, status FROM cascade_runs WHERE run_id = $1", f"schedule-{slot}"
    )
    assert (row["trigger"], row["status"]) == ("schedule", "succeeded")


async def test_run_cascade_over_grpc(orchestrator, parts, layers) -> None:
    async with grpc.aio.insecure_channel(orchestrator.grpc_target) as channel:
        stub = orchestrator_pb2_grpc.OrchestratorServiceStub(channel)
        reply = await stub.RunCascade(
            orchestrator_pb2.RunCascadeRequest(symbols=["BTC"], mode=orchestrator_pb2.CASCADE_MODE_FULL),
            timeout=20,
        )
        assert reply.run.status == cascade_pb2.CASCADE_RUN_STATUS_SUCCEEDED
        assert [layer.outcome for layer in reply.run.layers] == [cascade_pb2.LAYER_OUTCOME_OK] * 4
        assert reply.run.signals_generated == 1 and reply.timing.signals[0].symbol == "BTC"
        await _forget_latest(parts, 2)
        layers.sector.mode = "fail"
        try:
            await stub.RunCascade(orchestrator_pb2.RunCascadeRequest(symbols=["BTC"]), timeout=20)
        except grpc.aio.AioRpcError as error:
            assert error.code() == grpc.StatusCode.UNAVAILABLE
            assert "Layer 2 service unavailable" in (error.details() or "")
        else:
            raise AssertionError("a failed Layer 2 without fallback must fail the run")
