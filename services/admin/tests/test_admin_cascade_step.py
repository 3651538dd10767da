"""One cascade step without the orchestrator: Layer 3 (the real service, in-process, with a model
trained on the simulated market) scores the admin's watchlist and publishes its suggestions; the
admin service queues them, an admin approves a promotion, and the next SelectAssets call made with
WatchlistService's tier sets (what the orchestrator will pass) sees the change."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable

import pytest

from cp_layer_kit.testing import LocalTokens, RunningLayer, prepare_layer_database, run_layer
from cp_testing.waiting import eventually
from cryptopredict.admin.v1 import watchlist_pb2
from cryptopredict.analysis.v1 import asset_pb2, asset_pb2_grpc
from cryptopredict.common.v1 import analysis_pb2 as common_analysis_pb2
from cryptopredict.common.v1 import watchlists_pb2 as common_pb2
from layer3_asset_service import MIGRATIONS_DIR, SCHEMA
from layer3_asset_service.app import SPEC
from layer3_asset_service.settings import Layer3Settings

from .admin_testing import Auth, Caller, RunningAdmin

pytestmark = pytest.mark.slow

TIER1 = ["BTC", "ETH", "SOL", "ADA", "AVAX", "LINK", "DOT", "XRP"]
TIER2 = ["LTC", "UNI", "ATOM", "AAVE", "DOGE", "TRX", "MATIC", "SHIB", "XLM", "BCH"]


@pytest.fixture(scope="module")
async def layer3(
    fresh_database: Callable[..., str],
    redis_url: str,
    kafka_bootstrap_servers: str,
    free_port: Callable[[], int],
) -> AsyncIterator[RunningLayer]:
    url = fresh_database("admin_layer3")
    await prepare_layer_database(url, SCHEMA, MIGRATIONS_DIR, "asset_tier1_v4")
    settings = Layer3Settings(
        environment="test",
        database_url=url,
        redis_url=redis_url,
        kafka_bootstrap_servers=kafka_bootstrap_servers,
        grpc_port=free_port(),
        jwks_url="http://jwks.invalid/.well-known/jwks.json",
        layer_model_poll_s=60.0,
    )
    async with run_layer(SPEC, settings, LocalTokens()) as running:
        yield running


async def _select(layer3: RunningLayer, admin: RunningAdmin) -> asset_pb2.SelectAssetsResponse:
    """What the orchestrator does each run: the tier sets from WatchlistService into Layer 3."""
    async with admin.watchlist_stub() as stub:
        sets = await stub.GetTierSets(watchlist_pb2.GetTierSetsRequest())
    request = asset_pb2.SelectAssetsRequest(
        context=common_analysis_pb2.AnalysisContext(),
        cascade_run_id=f"run-{uuid.uuid4().hex[:8]}",
        tier1_symbols=[item.symbol for item in sets.tier1_items],
        tier2_symbols=[item.symbol for item in sets.tier2_items],
    )
    return await asset_pb2_grpc.AssetSelectionServiceStub(layer3.channel).SelectAssets(request)


async def test_an_approved_layer3_suggestion_is_seen_by_layer3_in_the_next_run(
    admin: RunningAdmin, layer3: RunningLayer, auth_service: Auth
) -> None:
    reviewer: Caller = await auth_service.user("admin")
    async with admin.client() as client:
        for tier, symbols in (("tier1", TIER1), ("tier2", TIER2)):
            body = {"items": [{"crypto_symbol": s, "tier": tier} for s in symbols]}
            added = await client.post(
                "/api/v1/layer3/watchlists/1/items/bulk", json=body, headers=reviewer.headers
            )
            assert added.status_code == 201, added.text

    first = await _select(layer3, admin)
    assert {a.symbol for a in first.analysis.tier1} == set(TIER1)
    published = [s for s in first.analysis.suggestions if s.published]
    assert published, "Layer 3 suggests changes to this watchlist on the simulated market"
    chosen = next(
        (s for s in published if s.suggestion_type == common_pb2.SUGGESTION_TYPE_PROMOTE_TO_TIER1),
        published[0],
    )

    async def queued() -> bool:
        async with admin.components.pool.acquire() as conn:
            return bool(
                await conn.fetchval(
                    "SELECT 1 FROM suggestions WHERE id = $1", uuid.UUID(chosen.suggestion_id)
                )
            )

    await eventually(queued, within=30, what="Layer 3's suggestion in the admin queue")
    async with admin.client() as client:
        review = await client.post(
            f"/api/v1/layer3/suggestions/{chosen.suggestion_id}/review",
            json={"decision": "approve", "note": "cascade step"},
            headers=reviewer.headers,
        )
    assert review.status_code == 200, review.text

    second = await _select(layer3, admin)
    assert chosen.symbol in {a.symbol for a in second.analysis.tier1}
    assert chosen.symbol not in {a.symbol for a in second.analysis.tier2}
    deep = next(a for a in second.analysis.tier1 if a.symbol == chosen.symbol)
    assert deep.tier == common_pb2.WATCHLIST_TIER_1 and 0 < deep.score <= 1
