"""The orchestrator in a real local fleet: auth, ingestion, the four layer services, the admin
service and the orchestrator under supervisord (shifted ports, temporary state dir, PostgreSQL,
Redis, Kafka, Nginx), the models trained the way ``make up`` does, driven through the gateway.

One fleet for the module: a full cascade with four sections and its stored run; Layer 1 stopped
through the supervisor (degraded with a fresh fallback, 503 naming it without one, the breaker
open and failing fast, half-open after its reset and closed when the layer is back); a hanging
Layer 3 (SIGSTOP) cut at its deadline; 50 concurrent quick requests; the orchestrator killed
mid-run and the run retried without duplicate signals; an admin approving a ``promote_to_tier1``
suggestion (audit entry, ``watchlist.changes.v1``) and the next orchestrated cascade's Layer 3
analysing that asset at tier 1; the admin dashboard's ``performance_metrics`` from Layer 4. While the admin watchlist is empty the orchestrator runs on its
configured default universe, so the tests before that one see the cascade as without admin.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
import uuid
from collections.abc import Iterator
from datetime import datetime

import httpx
import pytest

from cp_common import topics
from cp_common.kafka import EventProducer
from cp_testing.cascade_fleet import CascadeFleet, cascade_catalog, login
from cp_testing.cascade_fleet import cascade_fleet as start_cascade_fleet
from cp_testing.topics import read_topic
from cp_testing.waiting import eventually
from cryptopredict.common.v1 import watchlists_pb2 as common_pb2
from cryptopredict.events.v1 import watchlists_pb2 as events_pb2

# fleet start-up and model training alone can take minutes on a loaded two-core machine
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1500)]

DEADLINE_S = 12.0
RESET_S = 4.0
SYMBOLS = ["BTC", "ETH", "SOL", "ADA", "XRP"]


@pytest.fixture(scope="module")
def cascade_fleet() -> Iterator[CascadeFleet]:
    catalog = cascade_catalog(
        {
            **{f"ORCHESTRATOR_LAYER{n}_DEADLINE_S": str(DEADLINE_S) for n in (1, 2, 3, 4)},
            "ORCHESTRATOR_BREAKER_RESET_S": str(RESET_S),
            "ORCHESTRATOR_SCHEDULE_S": "0",
            # the simulated market's hourly candles would start runs that race the tests
            "ORCHESTRATOR_MOVE_THRESHOLD": "1.0",
        },
        # 50 concurrent requests come from one client address here; the per-IP zone would queue them
        api_burst=200,
        with_admin=True,
    )
    started = time.monotonic()
    with start_cascade_fleet(catalog) as running:
        print(f"cascade fleet up and models trained in {time.monotonic() - started:.1f}s")
        yield running


async def test_a_full_cascade_through_the_gateway_returns_four_sections_and_is_stored(cascade_fleet) -> None:
    answer = await cascade_fleet.post("/api/v1/analysis/full", {"symbols": SYMBOLS})
    assert answer.status_code == 200, answer.text
    data = answer.json()["data"]
    assert data["macro"]["regime"] in {"bull", "bear", "sideways", "volatile"}
    assert data["sector"]["recommended_allocation"]
    assert data["assets"]["context"]["active_assets"] is not None
    assert "signals" in data["timing"]
    assert data["status"] == "succeeded" and 0 < data["cascade_confidence"] <= 1
    assert set(data["model_versions"]) == {"macro", "sector", "asset", "timing"}
    stored = await cascade_fleet.get(f"/api/v1/analysis/runs/{data['run_id']}")
    assert stored.status_code == 200 and stored.json()["data"]["signal_count"] == len(
        data["timing"]["signals"]
    )


async def test_layer1_stopped_degrades_then_fails_then_the_breaker_recovers(cascade_fleet) -> None:
    assert (await cascade_fleet.post("/api/v1/analysis/full", {"symbols": SYMBOLS})).status_code == 200
    cascade_fleet.fleet.stop("layer1-macro")
    try:
        degraded = await cascade_fleet.post("/api/v1/analysis/full", {"symbols": SYMBOLS})
        assert degraded.status_code == 200, degraded.text
        assert degraded.json()["data"]["degraded_layers"] == ["macro"]
        await cascade_fleet.sql("DELETE FROM orchestrator.layer_latest WHERE layer = 1")
        failures = 1  # the degraded run's failed call counted too
        while failures < 5:
            failed = await cascade_fleet.post("/api/v1/analysis/full", {"symbols": SYMBOLS})
            assert failed.status_code == 503 and "Layer 1 service unavailable" in failed.text, failed.text
            failures += 1
        began = time.monotonic()
        fast = await cascade_fleet.post("/api/v1/analysis/full", {"symbols": SYMBOLS})
        assert fast.status_code == 503 and "Layer 1 service unavailable" in fast.text
        assert time.monotonic() - began < 1.0  # open circuit: no connection attempt, no retry pause
        assert await _breaker_state(cascade_fleet) == 2
    finally:
        cascade_fleet.fleet.start("layer1-macro", log=lambda line: None)
    await asyncio.sleep(RESET_S + 0.5)
    back = await cascade_fleet.post("/api/v1/analysis/full", {"symbols": SYMBOLS})
    assert back.status_code == 200, back.text
    assert await _breaker_state(cascade_fleet) == 0


async def _breaker_state(fleet: CascadeFleet) -> float:
    async with httpx.AsyncClient(timeout=10) as client:
        text = (await client.get(f"{fleet.http('orchestrator')}/metrics")).text
    line = next(x for x in text.splitlines() if x.startswith('circuit_breaker_state{breaker="layer1"}'))
    return float(line.split()[-1])


async def test_a_hanging_layer3_is_cut_at_its_deadline(cascade_fleet) -> None:
    await cascade_fleet.sql("DELETE FROM orchestrator.layer_latest WHERE layer = 3")
    pid = cascade_fleet.pid("layer3-asset")
    os.kill(pid, signal.SIGSTOP)
    try:
        began = time.monotonic()
        answer = await cascade_fleet.post("/api/v1/analysis/full", {"symbols": SYMBOLS})
        took = time.monotonic() - began
    finally:
        os.kill(pid, signal.SIGCONT)
    assert answer.status_code == 503 and "Layer 3 service unavailable" in answer.text, answer.text
    assert DEADLINE_S <= took < DEADLINE_S + 10, took
    rows = await cascade_fleet.sql(
        "SELECT layers FROM orchestrator.cascade_runs WHERE status = 'failed' ORDER BY started_at DESC LIMIT 1"
    )
    asset = next(x for x in json.loads(rows[0]["layers"]) if x["name"] == "asset")
    assert asset["outcome"] == "failed" and asset["duration_ms"] >= DEADLINE_S * 1000


async def test_fifty_concurrent_quick_requests_all_succeed(cascade_fleet) -> None:
    assert (await cascade_fleet.post("/api/v1/analysis/full", {"symbols": SYMBOLS})).status_code == 200
    began = time.monotonic()
    answers = await asyncio.gather(
        *(cascade_fleet.post("/api/v1/analysis/quick", {"symbols": ["BTC", "ETH"]}) for _ in range(50))
    )
    took = time.monotonic() - began
    assert [a.status_code for a in answers] == [200] * 50, [a.text for a in answers if a.status_code != 200][
        :2
    ]
    print(f"50 concurrent quick analyses in {took:.2f}s")
    outcomes = {a.json()["data"]["timings"]["layers"]["macro"]["outcome"] for a in answers}
    assert outcomes == {"reused"}


async def test_killing_the_orchestrator_mid_run_and_retrying_makes_no_duplicate_signals(
    cascade_fleet,
) -> None:
    run_id = f"killed-{uuid.uuid4().hex[:8]}"
    attempt = asyncio.create_task(
        cascade_fleet.post("/api/v1/analysis/full", {"symbols": SYMBOLS, "run_id": run_id})
    )
    for _ in range(200):  # until the run has started (its row is written before any layer call)
        if await cascade_fleet.sql("SELECT 1 FROM orchestrator.cascade_runs WHERE run_id = $1", run_id):
            break
        await asyncio.sleep(0.02)
    old_pid = cascade_fleet.pid("orchestrator")
    os.kill(old_pid, signal.SIGKILL)
    killed = await attempt
    assert killed.status_code in (502, 503, 504, 200), killed.text

    def restarted() -> bool:  # supervisord's autorestart, seen as a new pid
        status = next(s for s in cascade_fleet.fleet.status() if s.name == "orchestrator")
        return status.state == "RUNNING" and status.pid not in (None, old_pid)

    # before supervisord has noticed the death, start() would read a stale state and fail
    await eventually(restarted, within=60, interval=0.2, what="supervisord restarting the orchestrator")
    cascade_fleet.fleet.start("orchestrator", log=lambda line: None)  # returns once it is ready
    retried = await cascade_fleet.post("/api/v1/analysis/full", {"symbols": SYMBOLS, "run_id": run_id})
    assert retried.status_code == 200, retried.text
    data = retried.json()["data"]
    assert data["attempts"] >= 1
    rows = await cascade_fleet.sql(
        "SELECT symbol, count(*) AS n FROM layer4_timing.signals WHERE cascade_run_id = $1 GROUP BY symbol",
        run_id,
    )
    assert all(r["n"] == 1 for r in rows), rows
    assert len(rows) == len(data["timing"]["signals"])
    print(f"retried run {run_id}: {len(rows)} signals, none duplicated")


ADMIN_EMAIL = "admin@cryptopredict.local"
ADMIN_WATCHLIST = 1
#: The admin watchlist for the promotion test; the tier-2 assets are where Layer 3 looks for
#: promotions (and none of them is in the orchestrator's default tier 1, so a tier-1 result can
#: only come from the admin's lists).
TIER1 = ["BTC", "ETH", "SOL"]
TIER2 = ["LTC", "UNI", "ATOM", "AAVE", "TRX", "MATIC", "XLM", "BCH", "ETC", "SHIB"]


def _tiers(section: dict) -> tuple[set[str], set[str]]:
    return {a["symbol"] for a in section["tier1"]}, {a["symbol"] for a in section["tier2"]}


async def _layer3_recorded_tiers(fleet: CascadeFleet, run_id: str) -> dict[str, str]:
    """What Layer 3 stored for the run: each asset's tier in its own result view."""
    rows = await fleet.sql("SELECT view FROM layer3_asset.layer_results WHERE cascade_run_id = $1", run_id)
    return {a["symbol"]: a["tier"] for a in json.loads(rows[0]["view"])["assets"]}


async def _promotion(fleet: CascadeFleet, first: dict) -> tuple[str, str, str]:
    """(suggestion id, symbol, origin): Layer 3's own promote_to_tier1 from the run when it made
    one for a tier-2 asset, else one published on watchlist.suggestions.v1 as Layer 3 does."""
    own = [
        s
        for s in first["assets"]["suggestions"]
        if s["suggestion_type"] == "promote_to_tier1" and s["symbol"] in TIER2 and s["suggestion_id"]
    ]
    if own:
        return own[0]["suggestion_id"], own[0]["symbol"], "layer3"
    message = events_pb2.WatchlistSuggestionCreated(
        suggestion_id=str(uuid.uuid4()),
        symbol=TIER2[0],
        suggestion_type=common_pb2.SUGGESTION_TYPE_PROMOTE_TO_TIER1,
        confidence=0.9,
        ai_reasoning="fleet test: promotion score 0.9",
        cascade_run_id=first["run_id"],
    )
    message.suggested_at.GetCurrentTime()
    producer = EventProducer(fleet.kafka_bootstrap, client_id="orchestrator-fleet-test")
    await producer.start()
    try:
        await producer.publish(topics.WATCHLIST_SUGGESTIONS.name, message)
    finally:
        await producer.stop()
    return message.suggestion_id, message.symbol, "published"


async def test_an_approved_promotion_is_analysed_at_tier1_by_the_next_cascades_layer3(
    cascade_fleet: CascadeFleet,
) -> None:
    token = await login(cascade_fleet.gateway, ADMIN_EMAIL, cascade_fleet.admin_password())
    admin = httpx.AsyncClient(
        base_url=cascade_fleet.gateway, headers={"Authorization": f"Bearer {token}"}, timeout=120
    )
    items = "/api/v1/layer3/watchlists/1/items"
    async with admin:
        for tier, symbols in (("tier1", TIER1), ("tier2", TIER2)):
            body = {"items": [{"crypto_symbol": s, "tier": tier} for s in symbols]}
            added = await admin.post(f"{items}/bulk", json=body)
            assert added.status_code == 201, added.text
        try:
            await _promote_and_cascade(cascade_fleet, admin)
        finally:  # an empty admin watchlist: the orchestrator is back on its default universe
            listed = (await admin.get("/api/v1/admin/watchlist")).json()["data"]
            ids = [i["id"] for i in (*listed["tier1_items"], *listed["tier2_items"])]
            removed = await admin.post(f"{items}/bulk-remove", json={"item_ids": ids})
            assert removed.status_code == 200, removed.text


async def _promote_and_cascade(fleet: CascadeFleet, admin: httpx.AsyncClient) -> None:
    before = await admin.post("/api/v1/analysis/full", json={})
    assert before.status_code == 200, before.text
    first = before.json()["data"]
    assert _tiers(first["assets"]) == (set(TIER1), set(TIER2)), "the orchestrator passed the admin's tiers"
    suggestion_id, symbol, origin = await _promotion(fleet, first)
    print(f"promoting {symbol} ({origin} suggestion {suggestion_id})")

    async def queued() -> bool:
        listed = await admin.get("/api/v1/layer3/suggestions", params={"confidence_min": 0, "limit": 500})
        return suggestion_id in {s["id"] for s in listed.json()["data"]["suggestions"]}

    await eventually(queued, within=60, what="the suggestion in the admin queue")
    review = await admin.post(
        f"/api/v1/layer3/suggestions/{suggestion_id}/review", json={"decision": "approve", "note": "fleet"}
    )
    assert review.status_code == 200, review.text
    change = review.json()["data"]["watchlist_change"]
    assert (change["symbol"], change["tier"]) == (symbol, "tier1"), change

    audit = await admin.get("/api/v1/admin/audit", params={"target_id": suggestion_id})
    (entry,) = audit.json()["data"]["entries"]
    assert entry["action"] == "suggestion.approve" and entry["actor"]["email"] == ADMIN_EMAIL
    assert entry["before"] == {"status": "pending"} and entry["after"]["status"] == "approved"
    ((published, _),) = await read_topic(
        fleet.kafka_bootstrap, topics.WATCHLIST_CHANGES.name, lambda m: m.suggestion_id == suggestion_id, 1
    )
    assert published.kind == events_pb2.WATCHLIST_CHANGE_KIND_ITEM_TIER_CHANGED
    assert (published.symbol, published.tier, published.previous_tier) == (
        symbol,
        common_pb2.WATCHLIST_TIER_1,
        common_pb2.WATCHLIST_TIER_2,
    )

    after = await admin.post("/api/v1/analysis/full", json={})
    assert after.status_code == 200, after.text
    second = after.json()["data"]
    tier1, tier2 = _tiers(second["assets"])
    assert tier1 == {*TIER1, symbol} and symbol not in tier2
    stored = (await admin.get(f"/api/v1/analysis/runs/{second['run_id']}")).json()["data"]
    assert symbol in _tiers(stored["assets"])[0]
    recorded = await _layer3_recorded_tiers(fleet, second["run_id"])
    assert recorded[symbol] == "tier1"
    assert (await _layer3_recorded_tiers(fleet, first["run_id"]))[symbol] == "tier2"


#: Two signals as Layer 4 stores them (an open one, and one that hit its target for +3 %), so the
#: dashboard's figures are not all zero on a day without a rebalance.
SEED_SIGNALS = """
INSERT INTO layer4_timing.signals (id, cascade_run_id, symbol, signal_type, entry_price, target_price,
    stop_loss, target_distance, stop_distance, horizon_bars, risk_level, risk_reward_ratio, position_size,
    time_horizon_hours, decision_date, generated_at, expires_at, model_version, status, closed_at,
    exit_price, gross_return, net_return)
SELECT gen_random_uuid(), $1 || '-' || s.status, 'BTC', 'long', 100, 105, 98, 5, 2, 20, 'medium', 2.5,
    0.05, 480, current_date - 1, now() - interval '1 hour', now() + interval '20 days', 'fleet-test',
    s.status, s.closed_at, s.exit_price, s.gross, s.net
FROM (VALUES ('active', NULL::timestamptz, NULL::float8, NULL::float8, NULL::float8),
             ('target_hit', now(), 105, 0.05, 0.03)) AS s(status, closed_at, exit_price, gross, net)
"""


async def test_the_admin_dashboard_shows_layer4s_live_record(cascade_fleet: CascadeFleet) -> None:
    run_id = f"dashboard-{uuid.uuid4().hex[:8]}"
    await cascade_fleet.sql(SEED_SIGNALS, run_id)
    token = await login(cascade_fleet.gateway, ADMIN_EMAIL, cascade_fleet.admin_password())
    try:
        async with httpx.AsyncClient(
            base_url=cascade_fleet.gateway, headers={"Authorization": f"Bearer {token}"}, timeout=60
        ) as admin:
            answer = await admin.get("/api/v1/dashboard/admin", params={"performance_days": 7})
        assert answer.status_code == 200, answer.text
        performance = answer.json()["data"]["performance_metrics"]
        assert performance["status"] == "available" and performance["period_days"] == 7, performance
        (counts,) = await cascade_fleet.sql(
            "SELECT count(*) FILTER (WHERE generated_at >= $1) AS generated, "
            "count(*) FILTER (WHERE status = 'active') AS open, "
            "count(*) FILTER (WHERE closed_at >= $1 AND status = 'target_hit') AS target_hit, "
            "count(*) FILTER (WHERE closed_at >= $1 AND status <> 'cancelled' AND net_return IS NOT NULL) "
            "AS trades FROM layer4_timing.signals",
            datetime.fromisoformat(performance["since"]),
        )
    finally:
        await cascade_fleet.sql(
            "DELETE FROM layer4_timing.signals WHERE cascade_run_id LIKE $1", f"{run_id}-%"
        )
    signals = performance["signals"]
    assert signals["generated"] == counts["generated"] >= 2
    assert signals["open"] == counts["open"] >= 1
    assert signals["closed_by_outcome"]["target_hit"] == counts["target_hit"] >= 1
    assert performance["trades"] == counts["trades"] >= 1 and performance["wins"] >= 1
    print(f"admin dashboard over 7 days: {signals}, trades {performance['trades']}")
