"""Watchlists on the real stack: roles, validation against ingestion's universe over gRPC,
every change on watchlist.changes.v1 and (admin lists) in the audit log, and WatchlistService."""

from __future__ import annotations

import pytest

from cp_common import topics
from cp_testing.topics import read_topic
from cryptopredict.admin.v1 import watchlist_pb2
from cryptopredict.common.v1 import watchlists_pb2 as common_pb2
from cryptopredict.events.v1 import watchlists_pb2 as events_pb2

from .admin_testing import ADMIN_WATCHLIST, Auth, Caller, RunningAdmin

ENVELOPE_ERROR_KEYS = {"success", "error", "error_code", "timestamp"}


@pytest.fixture
async def admin_user(auth_service: Auth) -> Caller:
    """A fresh admin per test: the per-user rate limits (20 item changes per minute) then
    never couple one test to another."""
    return await auth_service.user("admin")


@pytest.fixture(scope="module")
async def casual(auth_service: Auth) -> Caller:
    return await auth_service.user("casual")


@pytest.fixture(scope="module")
async def professional(auth_service: Auth) -> Caller:
    return await auth_service.user("professional")


ADMIN_ROUTES = [
    ("POST", "/api/v1/layer3/watchlists/1/items", {"crypto_symbol": "BTC", "tier": "tier1"}),
    ("POST", "/api/v1/layer3/watchlists/1/items/bulk", {"items": [{"crypto_symbol": "BTC"}]}),
    ("POST", "/api/v1/layer3/watchlists/1/items/bulk-remove", {"item_ids": [1]}),
    ("DELETE", "/api/v1/layer3/watchlists/1/items/1", None),
    ("PATCH", "/api/v1/layer3/watchlists/1/items/1", {"tier": "tier1"}),
    ("PUT", "/api/v1/layer3/watchlists/1/order", {"item_ids": [1]}),
    ("GET", "/api/v1/layer3/suggestions", None),
    (
        "POST",
        "/api/v1/layer3/suggestions/6f1c2f0e-0000-4000-8000-000000000000/review",
        {"decision": "approve"},
    ),
    ("GET", "/api/v1/admin/watchlist", None),
    ("GET", "/api/v1/admin/audit", None),
    ("GET", "/api/v1/admin/system-health", None),
    ("GET", "/api/v1/dashboard/admin", None),
]


@pytest.mark.parametrize(("method", "path", "body"), ADMIN_ROUTES)
async def test_casual_and_professional_tokens_get_403_on_every_admin_route(
    admin: RunningAdmin, casual: Caller, professional: Caller, method: str, path: str, body: object
) -> None:
    async with admin.client() as client:
        for caller in (casual, professional):
            response = await client.request(method, path, json=body, headers=caller.headers)
            assert response.status_code == 403, (caller.role, response.text)
            assert ENVELOPE_ERROR_KEYS <= set(response.json()) and response.json()["success"] is False
            assert response.json()["error"] == "Admin privileges required"
        anonymous = await client.request(method, path, json=body)
        assert anonymous.status_code == 401


async def test_admin_adds_moves_and_removes_an_asset_and_every_change_is_published_and_audited(
    admin: RunningAdmin, admin_user: Caller, kafka_bootstrap_servers: str
) -> None:
    async with admin.client() as client:
        added = await client.post(
            "/api/v1/layer3/watchlists/1/items",
            json={"crypto_symbol": "sol", "tier": "tier2"},
            headers=admin_user.headers,
        )
        assert added.status_code == 201, added.text
        item = added.json()["data"]["item"]
        assert added.json()["data"]["message"] == "Added SOL to tier2"
        assert (item["symbol"], item["tier"], item["added_by"]) == ("SOL", "tier2", admin_user.user_id)

        moved = await client.patch(
            f"/api/v1/layer3/watchlists/1/items/{item['id']}",
            json={"tier": "tier1"},
            headers=admin_user.headers,
        )
        assert moved.status_code == 200 and moved.json()["data"]["tier"] == "tier1"
        again = await client.patch(
            f"/api/v1/layer3/watchlists/1/items/{item['id']}",
            json={"tier": "tier1"},
            headers=admin_user.headers,
        )
        assert again.status_code == 409

        removed = await client.delete(
            f"/api/v1/layer3/watchlists/1/items/{item['id']}", headers=admin_user.headers
        )
        assert (
            removed.status_code == 200 and removed.json()["data"]["message"] == "Item removed from watchlist"
        )
        gone = await client.delete(
            f"/api/v1/layer3/watchlists/1/items/{item['id']}", headers=admin_user.headers
        )
        assert gone.status_code == 404

        audit = await client.get(
            "/api/v1/admin/audit", params={"target_id": str(item["id"])}, headers=admin_user.headers
        )
    entries = audit.json()["data"]["entries"]
    assert [e["action"] for e in entries] == [
        "watchlist.item_removed",
        "watchlist.item_tier_changed",
        "watchlist.item_added",
    ]
    assert all(
        e["actor"] == {"user_id": admin_user.user_id, "email": admin_user.email, "role": "admin"}
        for e in entries
    )
    assert entries[1]["before"]["tier"] == "tier2" and entries[1]["after"]["tier"] == "tier1"
    assert all(e["request_id"] for e in entries)

    changes = await read_topic(
        kafka_bootstrap_servers,
        topics.WATCHLIST_CHANGES.name,
        lambda m: m.item_id == str(item["id"]) and m.actor_user_id == admin_user.user_id,
        3,
    )
    kinds = [(m.kind, m.tier, m.previous_tier) for m, _ in changes]
    assert kinds == [
        (
            events_pb2.WATCHLIST_CHANGE_KIND_ITEM_ADDED,
            common_pb2.WATCHLIST_TIER_2,
            common_pb2.WATCHLIST_TIER_UNSPECIFIED,
        ),
        (
            events_pb2.WATCHLIST_CHANGE_KIND_ITEM_TIER_CHANGED,
            common_pb2.WATCHLIST_TIER_1,
            common_pb2.WATCHLIST_TIER_2,
        ),
        (
            events_pb2.WATCHLIST_CHANGE_KIND_ITEM_REMOVED,
            common_pb2.WATCHLIST_TIER_UNSPECIFIED,
            common_pb2.WATCHLIST_TIER_1,
        ),
    ]
    assert {m.actor_user_id for m, _ in changes} == {admin_user.user_id}
    assert {m.watchlist_id for m, _ in changes} == {"1"}


async def test_unknown_symbols_and_malformed_bodies_get_400_or_422_in_the_envelope(
    admin: RunningAdmin, admin_user: Caller
) -> None:
    cases = [
        ({"crypto_symbol": "NOSUCHCOIN", "tier": "tier1"}, 400),
        ({"crypto_symbol": "BTC-USD", "tier": "tier1"}, 400),
        ({"crypto_symbol": "BTC", "tier": "tier3"}, 422),
        ({"crypto_symbol": "BTC", "extra": 1}, 422),
        ({"tier": "tier1"}, 422),
        ({"crypto_symbol": "X" * 21}, 422),
    ]
    async with admin.client() as client:
        for body, status in cases:
            response = await client.post(
                "/api/v1/layer3/watchlists/1/items", json=body, headers=admin_user.headers
            )
            assert response.status_code == status, (body, response.text)
            assert ENVELOPE_ERROR_KEYS <= set(response.json()) and response.json()["success"] is False
        not_json = await client.post(
            "/api/v1/layer3/watchlists/1/items",
            content=b"{not json",
            headers={**admin_user.headers, "content-type": "application/json"},
        )
        assert not_json.status_code == 422
        bad_id = await client.get("/api/v1/layer3/watchlists/abc", headers=admin_user.headers)
        assert bad_id.status_code == 422
        review = await client.post(
            "/api/v1/layer3/suggestions/not-a-uuid/review",
            json={"decision": "approve"},
            headers=admin_user.headers,
        )
        assert review.status_code == 422
        items = await client.get("/api/v1/admin/watchlist", headers=admin_user.headers)
    assert "NOSUCHCOIN" not in {i["symbol"] for i in items.json()["data"]["tier1_items"]}


async def test_bulk_add_is_all_or_nothing_and_reorder_sets_the_priority(
    admin: RunningAdmin, admin_user: Caller
) -> None:
    async with admin.client() as client:
        refused = await client.post(
            "/api/v1/layer3/watchlists/1/items/bulk",
            json={"items": [{"crypto_symbol": "ADA"}, {"crypto_symbol": "NOSUCHCOIN"}]},
            headers=admin_user.headers,
        )
        assert refused.status_code == 400
        bulk = await client.post(
            "/api/v1/layer3/watchlists/1/items/bulk",
            json={"items": [{"crypto_symbol": s, "tier": "tier1"} for s in ("ADA", "DOT", "LINK")]},
            headers=admin_user.headers,
        )
        assert bulk.status_code == 201, bulk.text
        duplicate = await client.post(
            "/api/v1/layer3/watchlists/1/items", json={"crypto_symbol": "ADA"}, headers=admin_user.headers
        )
        assert duplicate.status_code == 409
        ids = [item["id"] for item in bulk.json()["data"]["items"]]
        current = (await client.get("/api/v1/admin/watchlist", headers=admin_user.headers)).json()["data"]
        every = [i["id"] for i in current["tier1_items"] + current["tier2_items"]]
        partial = await client.put(
            "/api/v1/layer3/watchlists/1/order", json={"item_ids": ids[:1]}, headers=admin_user.headers
        )
        assert partial.status_code == 400
        wanted = [i for i in every if i not in ids] + list(reversed(ids))
        reordered = await client.put(
            "/api/v1/layer3/watchlists/1/order", json={"item_ids": wanted}, headers=admin_user.headers
        )
        assert reordered.status_code == 200, reordered.text
        async with admin.watchlist_stub() as stub:
            sets = await stub.GetTierSets(watchlist_pb2.GetTierSetsRequest())
        tier1 = [i.symbol for i in sets.tier1_items]
        assert tier1[-3:] == ["LINK", "DOT", "ADA"]
        removed = await client.post(
            "/api/v1/layer3/watchlists/1/items/bulk-remove",
            json={"item_ids": ids},
            headers=admin_user.headers,
        )
        assert removed.status_code == 200
        async with admin.watchlist_stub() as stub:
            after = await stub.GetTierSets(watchlist_pb2.GetTierSetsRequest())
    assert not {"ADA", "DOT", "LINK"} & {i.symbol for i in after.tier1_items}
    assert after.HasField("changed_at")


async def test_detail_shows_price_24h_change_and_layer3_score_and_is_cached(
    admin: RunningAdmin, admin_user: Caller, casual: Caller
) -> None:
    async with admin.client() as client:
        added = await client.post(
            "/api/v1/layer3/watchlists/1/items",
            json={"crypto_symbol": "ETH", "tier": "tier1"},
            headers=admin_user.headers,
        )
        assert added.status_code == 201
        async with admin.components.pool.acquire() as conn:
            await conn.execute(
                # newer than any score Layer 3 may have published on the shared broker
                "INSERT INTO asset_scores (symbol, ai_score, confidence, analyzed_at) "
                "VALUES ('ETH', 0.7, 0.6, now() + interval '1 day') ON CONFLICT (symbol) DO UPDATE "
                "SET ai_score = 0.7, confidence = 0.6, analyzed_at = now() + interval '1 day'"
            )
        detail = await client.get(f"/api/v1/layer3/watchlists/{ADMIN_WATCHLIST}", headers=casual.headers)
        assert detail.status_code == 200, detail.text
        eth = next(i for i in detail.json()["data"]["items"] if i["symbol"] == "ETH")
        assert eth["market"]["price_usd"] > 0 and eth["market"]["change_24h_pct"] is not None
        assert eth["layer3"]["ai_score"] == 0.7
        assert detail.json()["data"]["market_data"] == "available"
        async with admin.components.pool.acquire() as conn:
            await conn.execute("UPDATE asset_scores SET ai_score = 0.1 WHERE symbol = 'ETH'")
        cached = await client.get(f"/api/v1/layer3/watchlists/{ADMIN_WATCHLIST}", headers=casual.headers)
    assert (
        next(i for i in cached.json()["data"]["items"] if i["symbol"] == "ETH")["layer3"]["ai_score"] == 0.7
    )


async def test_personal_watchlists_belong_to_their_owner(
    admin: RunningAdmin, auth_service: Auth, casual: Caller, kafka_bootstrap_servers: str
) -> None:
    other = await auth_service.user("casual")
    async with admin.client() as client:
        created = await client.post(
            "/api/v1/layer3/watchlists", json={"name": "My picks"}, headers=casual.headers
        )
        assert created.status_code == 201, created.text
        mine = created.json()["data"]["id"]
        added = await client.post(
            f"/api/v1/layer3/watchlists/{mine}/items", json={"crypto_symbol": "DOGE"}, headers=casual.headers
        )
        assert added.status_code == 201
        listed = await client.get("/api/v1/layer3/watchlists", headers=casual.headers)
        names = {(w["kind"], w["name"]) for w in listed.json()["data"]["watchlists"]}
        assert ("admin", "Admin watchlist") in names and ("personal", "My picks") in names
        assert listed.json()["data"]["total_watchlists"] == len(names)
        for method, path in (
            ("GET", f"/api/v1/layer3/watchlists/{mine}"),
            ("DELETE", f"/api/v1/layer3/watchlists/{mine}"),
        ):
            assert (await client.request(method, path, headers=other.headers)).status_code == 404
        foreign_add = await client.post(
            f"/api/v1/layer3/watchlists/{mine}/items", json={"crypto_symbol": "BTC"}, headers=other.headers
        )
        assert foreign_add.status_code == 404
        admin_list = await client.delete("/api/v1/layer3/watchlists/1", headers=casual.headers)
        assert admin_list.status_code == 409
        deleted = await client.delete(f"/api/v1/layer3/watchlists/{mine}", headers=casual.headers)
        assert deleted.status_code == 200
        audit = await client.get(
            "/api/v1/admin/audit",
            params={"actor_user_id": casual.user_id},
            headers=(await auth_service.user("admin")).headers,
        )
    assert audit.json()["data"]["total"] == 0  # a user's own list is not an admin action
    # Another module's admin (its own database, so the same watchlist ids) may publish for the same
    # session user on the shared broker: keep the records this admin's outbox wrote.
    ours = {
        str(row["event_id"])
        for row in await admin.app.state.runtime.pool.fetch("SELECT event_id FROM outbox")
    }
    events = await read_topic(
        kafka_bootstrap_servers,
        topics.WATCHLIST_CHANGES.name,
        lambda m: m.watchlist_id == str(mine) and m.actor_user_id == casual.user_id,
        3,
        event_ids=ours,
    )
    assert [m.kind for m, _ in events] == [
        events_pb2.WATCHLIST_CHANGE_KIND_WATCHLIST_CREATED,
        events_pb2.WATCHLIST_CHANGE_KIND_ITEM_ADDED,
        events_pb2.WATCHLIST_CHANGE_KIND_WATCHLIST_DELETED,
    ]


async def test_a_paused_item_leaves_the_tier_sets_until_it_is_resumed(
    admin: RunningAdmin, admin_user: Caller, kafka_bootstrap_servers: str
) -> None:
    async with admin.client() as client:
        added = await client.post(
            "/api/v1/layer3/watchlists/1/items",
            json={"crypto_symbol": "TRX", "tier": "tier1"},
            headers=admin_user.headers,
        )
        item_id = added.json()["data"]["item"]["id"]
        path = f"/api/v1/layer3/watchlists/1/items/{item_id}"
        paused = await client.patch(path, json={"status": "paused"}, headers=admin_user.headers)
        assert paused.status_code == 200 and paused.json()["data"]["status"] == "paused"
        async with admin.watchlist_stub() as stub:
            while_paused = await stub.GetTierSets(watchlist_pb2.GetTierSetsRequest())
        assert (await client.patch(path, json={}, headers=admin_user.headers)).status_code == 422
        assert (
            await client.patch(path, json={"status": "sleeping"}, headers=admin_user.headers)
        ).status_code == 422
        resumed = await client.patch(
            path, json={"status": "active", "tier": "tier2"}, headers=admin_user.headers
        )
        assert resumed.status_code == 200
        assert (resumed.json()["data"]["status"], resumed.json()["data"]["tier"]) == ("active", "tier2")
        async with admin.watchlist_stub() as stub:
            after = await stub.GetTierSets(watchlist_pb2.GetTierSetsRequest())
    assert "TRX" not in {i.symbol for i in while_paused.tier1_items}
    assert "TRX" in {i.symbol for i in after.tier2_items}
    changes = await read_topic(
        kafka_bootstrap_servers,
        topics.WATCHLIST_CHANGES.name,
        lambda m: m.item_id == str(item_id) and m.actor_user_id == admin_user.user_id,
        4,
    )
    assert [(m.kind, m.status) for m, _ in changes] == [
        (events_pb2.WATCHLIST_CHANGE_KIND_ITEM_ADDED, "active"),
        (events_pb2.WATCHLIST_CHANGE_KIND_ITEM_STATUS_CHANGED, "paused"),
        (events_pb2.WATCHLIST_CHANGE_KIND_ITEM_TIER_CHANGED, "paused"),
        (events_pb2.WATCHLIST_CHANGE_KIND_ITEM_STATUS_CHANGED, "active"),
    ]


async def test_item_changes_are_limited_to_20_per_minute_per_user(
    admin: RunningAdmin, auth_service: Auth
) -> None:
    busy = await auth_service.user("casual")
    answers: list[int] = []
    async with admin.client() as client:
        # Fixed 60 s windows: 41 calls see a 429 even if a window boundary falls in between.
        while 429 not in answers and len(answers) < 41:
            response = await client.delete("/api/v1/layer3/watchlists/999999/items/1", headers=busy.headers)
            answers.append(response.status_code)
        other = await client.delete(
            "/api/v1/layer3/watchlists/999999/items/1", headers=(await auth_service.user()).headers
        )
    first_refusal = answers.index(429)
    assert 20 <= first_refusal <= 40 and set(answers[:first_refusal]) == {404}
    assert other.status_code == 404  # the limit is per user
