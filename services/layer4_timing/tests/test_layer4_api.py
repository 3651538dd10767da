"""The public REST API on the running service (in-process, real PostgreSQL, Redis and Kafka,
tokens from the real auth service): listing and detail, paper execution with its refusals and
its per-user limit, and a position that closes with its signal when candles arrive on Kafka."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pandas as pd
import pytest

from cp_fleet.embedded import find_free_port
from cp_testing.waiting import eventually
from layer4_timing_service.settings import TimingSettings
from layer4_timing_service.storage import signals as store
from layer4_timing_service.storage.signals import Closing

from .timing_testing import (
    PASSWORD,
    AuthServer,
    RunningTiming,
    bearer,
    consumer_caught_up,
    group_starts_at_the_end,
    long_net,
    new_signal,
    publish_candles,
    running_timing,
    store_signal,
)

TODAY = datetime.now(UTC).date()
YESTERDAY = TODAY - timedelta(days=1)


#: This module's Kafka consumer group (its replicas share it).
GROUP = f"l4-api-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
async def timing(
    auth_server: AuthServer, fresh_database: Callable[..., str], redis_url: str, kafka_bootstrap_servers: str
) -> AsyncIterator[RunningTiming]:
    settings = TimingSettings(
        environment="test",
        database_url=fresh_database("layer4"),
        redis_url=redis_url,
        kafka_bootstrap_servers=kafka_bootstrap_servers,
        jwks_url=f"{auth_server.url}/.well-known/jwks.json",
        grpc_port=find_free_port(),
    )
    await group_starts_at_the_end(kafka_bootstrap_servers, GROUP)
    async with running_timing(settings, GROUP) as running:
        await consumer_caught_up(kafka_bootstrap_servers, running.pool, GROUP)
        yield running


def _signal(symbol: str, **overrides: Any) -> Any:
    values: dict[str, Any] = {"target_distance": 100.0, "stop_distance": 50.0}
    values.update(overrides)
    day = values.pop("day", YESTERDAY)
    side = values.pop("side", "long")
    close = values.pop("close", 1000.0)
    return new_signal(symbol, side, day, close, **values)


async def test_listing_filters_pages_and_shows_detail(timing: RunningTiming, auth_server: AuthServer) -> None:
    _, token = await auth_server.token()
    symbol = f"L{uuid.uuid4().hex[:5].upper()}"
    strong = [await store_signal(timing.pool, _signal(symbol)) for _ in range(3)]
    weak = await store_signal(timing.pool, _signal(symbol, run_id="weak"))
    async with timing.pool.acquire() as conn:
        await conn.execute("UPDATE signals SET confidence = 0.55 WHERE id = $1", weak.id)
    async with timing.client() as client:
        assert (await client.get("/api/v1/layer4/signals")).status_code == 401
        query = f"/api/v1/layer4/signals?symbol={symbol}&confidence_min=0.7&limit=2"
        first = await client.get(query, headers=bearer(token))
        body = first.json()["data"]
        assert first.status_code == 200 and body["total_signals"] == 3
        assert body["filters"] == {"status": "active", "min_confidence": 0.7, "symbol": symbol}
        second = await client.get(f"{query}&cursor={body['next_cursor']}", headers=bearer(token))
        pages = [s["id"] for s in body["signals"]] + [s["id"] for s in second.json()["data"]["signals"]]
        assert (
            sorted(pages) == sorted(str(s.id) for s in strong)
            and second.json()["data"]["next_cursor"] is None
        )
        # by default every traded signal (all of them passed the model's gate)
        default = await client.get(f"/api/v1/layer4/signals?symbol={symbol}", headers=bearer(token))
        assert default.json()["data"]["total_signals"] == 4
        assert default.json()["data"]["filters"]["min_confidence"] == 0.0
        detail = await client.get(f"/api/v1/layer4/signals/{strong[0].id}", headers=bearer(token))
        data = detail.json()["data"]
        assert data["reasoning"]["supporting_evidence"] == ["rsi", "model"]
        assert data["risk_assessment"]["stop_distance_pct"] == pytest.approx(0.05)
        assert data["probability_analysis"]["probability"] == 0.8
        assert {e["voter"] for e in data["evidence"]} == {"rsi", "macd", "model", "volume"}
        for missing in (str(uuid.uuid4()), "not-a-signal"):
            gone = await client.get(f"/api/v1/layer4/signals/{missing}", headers=bearer(token))
            assert gone.status_code == 404 and gone.json()["error"] == "Signal not found"
        bad = await client.get("/api/v1/layer4/signals?limit=0", headers=bearer(token))
        assert bad.status_code == 422 and bad.json()["success"] is False


async def test_execute_refuses_with_a_reason_each_and_limits_each_user(
    timing: RunningTiming, auth_server: AuthServer
) -> None:
    _, token = await auth_server.token()
    _, other = await auth_server.token()
    expired = await store_signal(timing.pool, _signal("XEXP", day=TODAY - timedelta(days=30)))
    closed = await store_signal(timing.pool, _signal("XCLS"))
    async with timing.pool.acquire() as conn:
        await store.close(conn, closed.id, Closing("stopped_out", datetime.now(UTC), exit_price=950.0))
    risky = await store_signal(timing.pool, _signal("XRSK", stop_distance=300.0))  # 30 % to the stop
    valid = await store_signal(timing.pool, _signal("XVAL"))
    url = "/api/v1/layer4/signals/{}/execute"
    async with timing.client() as client:

        async def execute(signal_id: object, body: dict[str, float] | None = None, who: str = token) -> Any:
            return await client.post(url.format(signal_id), json=body, headers=bearer(who))

        answers = [
            await execute(expired.id),
            await execute(closed.id),
            await execute(valid.id, {"size": 0.5}),
            await execute(risky.id, {"size": 0.1}),
            await execute(valid.id, {"size": 0.04}),
            await execute(valid.id),
        ]
        statuses = [a.status_code for a in answers]
        assert statuses == [400, 400, 400, 400, 200, 409], [a.text for a in answers]
        errors = [a.json()["error"] for a in answers[:4]]
        assert errors[0].startswith("Signal not available for execution: it expired at")
        assert errors[1] == "Signal not available for execution: it is stopped_out"
        assert errors[2] == "Position size 0.5000 exceeds your maximum position size 0.1000"
        assert errors[3] == "Risk at the stop 0.0300 of equity exceeds your maximum risk per trade 0.0200"
        executed = answers[4].json()["data"]
        assert executed["message"] == "Signal executed successfully" and executed["notional"] == 400.0
        for _ in range(4):  # calls 7..10 of this minute
            assert (await execute(uuid.uuid4())).status_code == 404
        eleventh = await execute(valid.id)
        assert eleventh.status_code == 429 and eleventh.json()["error"] == "Rate limit exceeded"
        assert int(eleventh.headers["Retry-After"]) >= 1
        assert (await execute(valid.id, who=other)).status_code == 200  # another user is not limited
        portfolio = (await client.get("/api/v1/layer4/portfolio", headers=bearer(token))).json()["data"]
        assert [p["execution_id"] for p in portfolio["open_positions"]] == [executed["execution_id"]]
        listed = (await client.get("/api/v1/layer4/executions", headers=bearer(token))).json()["data"]
        assert listed["count"] == 1


async def test_a_position_closes_with_its_signal_when_candles_arrive(
    timing: RunningTiming, auth_server: AuthServer, kafka_bootstrap_servers: str
) -> None:
    user_id, token = await auth_server.token()
    symbol = f"K{uuid.uuid4().hex[:5].upper()}"
    signal = await store_signal(timing.pool, _signal(symbol, target_distance=30.0, stop_distance=20.0))
    async with timing.client() as client:
        done = await client.post(
            f"/api/v1/layer4/signals/{signal.id}/execute", json={"size": 0.05}, headers=bearer(token)
        )
        assert done.status_code == 200, done.text
        listing = f"/api/v1/layer4/signals?symbol={symbol}"
        active = (await client.get(listing, headers=bearer(token))).json()["data"]  # now kept
        assert [s["id"] for s in active["signals"]] == [str(signal.id)]
        # the fill bar: opens at 1002, runs up to 1040 (the target 1030 is hit), closes at 1035
        bars = pd.DataFrame(
            [
                {
                    "symbol": symbol,
                    "open_time": datetime.combine(TODAY, datetime.min.time(), tzinfo=UTC),
                    "open": 1002.0,
                    "high": 1040.0,
                    "low": 995.0,
                    "close": 1035.0,
                    "volume": 1.0,
                }
            ]
        )
        await publish_candles(kafka_bootstrap_servers, bars)

        async def closed() -> bool:
            async with timing.pool.acquire() as conn:
                current = await store.get(conn, signal.id)
            return current is not None and current.status != "active"

        await eventually(closed, within=60)
        # the tracker dropped the kept listing with its change: no stale "active" page
        after = (await client.get(listing, headers=bearer(token))).json()["data"]
        assert after["signals"] == [] and after["total_signals"] == 0
        hit = (await client.get(f"{listing}&status=target_hit", headers=bearer(token))).json()["data"]
        assert [s["id"] for s in hit["signals"]] == [str(signal.id)]
        detail = (await client.get(f"/api/v1/layer4/signals/{signal.id}", headers=bearer(token))).json()[
            "data"
        ]
        assert detail["status"] == "target_hit" and detail["outcome"]["exit_price"] == 1030.0
        assert detail["outcome"]["net_return"] == pytest.approx(long_net(1002.0, 1030.0), abs=1e-12)
        portfolio = (await client.get("/api/v1/layer4/portfolio", headers=bearer(token))).json()["data"]
        # executed at 1000 (the signal's entry, no newer close known), sold at 1030, net of costs
        expected = 500.0 * long_net(1000.0, 1030.0)
        assert portfolio["open_positions"] == [] and portfolio["realised_pnl"] == pytest.approx(
            expected, abs=1e-9
        )
        assert portfolio["equity"] == pytest.approx(10_000.0 + expected, abs=1e-9)
        feedback = await client.post(
            f"/api/v1/layer4/signals/{signal.id}/feedback",
            json={"rating": 4, "useful": True},
            headers=bearer(token),
        )
        assert (
            feedback.status_code == 200
            and feedback.json()["data"]["message"] == "Feedback submitted successfully"
        )
        bad = await client.post(
            f"/api/v1/layer4/signals/{signal.id}/feedback", json={"rating": 9}, headers=bearer(token)
        )
        assert bad.status_code == 422
    async with timing.pool.acquire() as conn:
        kinds = await conn.fetch(
            "SELECT headers->>'event-type' AS kind FROM outbox WHERE record_key = $1 ORDER BY id",
            str(signal.id).encode(),
        )
    assert len(kinds) == 2 and {k["kind"] for k in kinds} == {"cryptopredict.events.v1.SignalChanged"}
    assert user_id


# Executing needs the ``execute`` scope: a read-only API key's token reads signals but cannot
# execute one, a read+execute key's token can (tokens from the real auth service).
async def _key_token(auth_server: AuthServer, scope: str) -> str:
    email = f"l4-key-{uuid.uuid4().hex[:10]}@example.com"
    async with httpx.AsyncClient(base_url=auth_server.url, timeout=30) as client:
        await client.post("/api/v1/auth/register", json={"email": email, "password": PASSWORD})
        login = await client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
        session = login.json()["data"]["access_token"]
        created = await client.post(
            "/api/v1/auth/api-keys", json={"name": "bot", "scope": scope}, headers=bearer(session)
        )
        assert created.status_code == 201, created.text
        exchanged = await client.post(
            "/api/v1/auth/api-keys/token", json={"api_key": created.json()["data"]["api_key"]}
        )
    return exchanged.json()["data"]["access_token"]


async def test_a_read_only_key_cannot_execute(timing: RunningTiming, auth_server: AuthServer) -> None:
    signal = await store_signal(timing.pool, _signal("XKEY"))
    read_only = await _key_token(auth_server, "read")
    acting = await _key_token(auth_server, "read execute")
    execute = f"/api/v1/layer4/signals/{signal.id}/execute"
    async with timing.client() as client:
        assert (
            await client.get(f"/api/v1/layer4/signals/{signal.id}", headers=bearer(read_only))
        ).status_code == 200
        refused = await client.post(execute, json={"size": 0.04}, headers=bearer(read_only))
        assert refused.status_code == 403 and refused.json()["success"] is False
        assert "execute" in refused.json()["error"]
        done = await client.post(execute, json={"size": 0.04}, headers=bearer(acting))
        assert done.status_code == 200, done.text
