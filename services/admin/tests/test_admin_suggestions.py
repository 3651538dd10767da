"""The suggestion queue and reviews on the real stack: idempotent consumption, notifications,
approval applying the watchlist change with its audit entry and events, concurrent reviews,
expiry, auth's user administration in the audit log, and the log being append-only."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from admin_service.storage import suggestions as suggestion_store
from cp_common import topics
from cp_testing.topics import read_topic
from cp_testing.waiting import eventually
from cryptopredict.admin.v1 import watchlist_pb2
from cryptopredict.common.v1 import watchlists_pb2 as common_pb2
from cryptopredict.events.v1 import admin_pb2, cascade_pb2
from cryptopredict.events.v1 import watchlists_pb2 as events_pb2

from .admin_testing import Auth, Caller, Publisher, RunningAdmin, suggestion

SUGGESTIONS = topics.WATCHLIST_SUGGESTIONS.name


@pytest.fixture
async def admin_user(auth_service: Auth) -> Caller:
    """A fresh admin per test: the per-user rate limits (20 item changes per minute) then
    never couple one test to another."""
    return await auth_service.user("admin")


async def _queued(admin: RunningAdmin, suggestion_id: str) -> asyncpg.Record | None:
    async with admin.components.pool.acquire() as conn:
        return await conn.fetchrow("SELECT * FROM suggestions WHERE id = $1", uuid.UUID(suggestion_id))


async def _publish_and_wait(
    admin: RunningAdmin, publisher: Publisher, message: events_pb2.WatchlistSuggestionCreated
) -> None:
    await publisher.publish(SUGGESTIONS, message)

    async def arrived() -> bool:
        return await _queued(admin, message.suggestion_id) is not None

    await eventually(arrived, within=30, what=f"suggestion {message.suggestion_id} queued")


async def _add(admin: RunningAdmin, caller: Caller, symbol: str, tier: str) -> dict:
    async with admin.client() as client:
        response = await client.post(
            "/api/v1/layer3/watchlists/1/items",
            json={"crypto_symbol": symbol, "tier": tier},
            headers=caller.headers,
        )
    assert response.status_code == 201, response.text
    return response.json()["data"]["item"]


async def _review(
    admin: RunningAdmin, caller: Caller, suggestion_id: str, decision: str, note: str = ""
) -> object:
    async with admin.client() as client:
        return await client.post(
            f"/api/v1/layer3/suggestions/{suggestion_id}/review",
            json={"decision": decision, "note": note},
            headers=caller.headers,
        )


async def test_replaying_the_same_suggestion_event_creates_one_queue_entry(
    admin: RunningAdmin, publisher: Publisher
) -> None:
    message = suggestion("XRP")
    event_id = await publisher.publish(SUGGESTIONS, message)
    await publisher.publish(SUGGESTIONS, message, event_id=event_id)  # the same event again
    await publisher.publish(SUGGESTIONS, message)  # the same suggestion under a new event id
    marker = suggestion("LTC")
    await _publish_and_wait(admin, publisher, marker)  # published after: the replays were handled

    async with admin.components.pool.acquire() as conn:

        async def all_handled() -> bool:
            handled = await conn.fetchval(
                "SELECT count(*) FROM processed_events WHERE topic = $1", SUGGESTIONS
            )
            return handled >= 3

        await eventually(all_handled, within=30, what="three suggestion events handled")
        count = await conn.fetchval(
            "SELECT count(*) FROM suggestions WHERE id = $1", uuid.UUID(message.suggestion_id)
        )
    assert count == 1


async def test_the_queue_filters_by_status_and_confidence_with_the_seed_defaults(
    admin: RunningAdmin, publisher: Publisher, admin_user: Caller
) -> None:
    low, high = suggestion("BCH", confidence=0.65), suggestion("UNI", confidence=0.95)
    await _publish_and_wait(admin, publisher, low)
    await _publish_and_wait(admin, publisher, high)
    async with admin.client() as client:
        default = await client.get("/api/v1/layer3/suggestions", headers=admin_user.headers)
        everything = await client.get(
            "/api/v1/layer3/suggestions", params={"confidence_min": 0}, headers=admin_user.headers
        )
        bad = [
            await client.get("/api/v1/layer3/suggestions", params=params, headers=admin_user.headers)
            for params in ({"status": "bogus"}, {"limit": 0}, {"confidence_min": 1.5}, {"limit": "x"})
        ]
    data = default.json()["data"]
    assert data["filters"] == {"status": "pending", "min_confidence": 0.7}
    ids = [s["id"] for s in data["suggestions"]]
    assert high.suggestion_id in ids and low.suggestion_id not in ids
    confidences = [s["confidence"] for s in data["suggestions"]]
    assert confidences == sorted(confidences, reverse=True)
    assert low.suggestion_id in [s["id"] for s in everything.json()["data"]["suggestions"]]
    assert [r.status_code for r in bad] == [422, 422, 422, 422]


async def test_suggestions_above_085_raise_an_admin_notification(
    admin: RunningAdmin, publisher: Publisher, kafka_bootstrap_servers: str
) -> None:
    quiet, loud = suggestion("ATOM", confidence=0.85), suggestion("XLM", confidence=0.91)
    await _publish_and_wait(admin, publisher, quiet)
    await _publish_and_wait(admin, publisher, loud)
    wanted = {quiet.suggestion_id, loud.suggestion_id}
    found = await read_topic(
        kafka_bootstrap_servers,
        topics.ADMIN_NOTIFICATIONS.name,
        lambda m: m.suggestion_id in wanted,
        2,
        within_s=10,
    )
    assert [m.suggestion_id for m, _ in found] == [loud.suggestion_id]
    notification = found[0][0]
    assert notification.kind == admin_pb2.ADMIN_NOTIFICATION_KIND_HIGH_CONFIDENCE_SUGGESTION
    assert notification.symbol == "XLM" and notification.confidence == pytest.approx(0.91)
    assert "XLM" in notification.title


async def test_approving_a_promotion_moves_the_asset_audits_and_publishes_the_change(
    admin: RunningAdmin, publisher: Publisher, admin_user: Caller, kafka_bootstrap_servers: str
) -> None:
    item = await _add(admin, admin_user, "AVAX", "tier2")
    message = suggestion("AVAX", common_pb2.SUGGESTION_TYPE_PROMOTE_TO_TIER1, confidence=0.83)
    await _publish_and_wait(admin, publisher, message)

    response = await _review(admin, admin_user, message.suggestion_id, "approve", "strong momentum")
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert data["decision"] == "approve" and data["reviewer"] == admin_user.email
    assert data["suggestion"]["status"] == "approved"
    assert data["watchlist_change"]["tier"] == "tier1" and data["watchlist_change"]["id"] == item["id"]

    async with admin.watchlist_stub() as stub:
        sets = await stub.GetTierSets(watchlist_pb2.GetTierSetsRequest())
    assert "AVAX" in [i.symbol for i in sets.tier1_items]
    assert "AVAX" not in [i.symbol for i in sets.tier2_items]

    async with admin.client() as client:
        audit = await client.get(
            "/api/v1/admin/audit", params={"target_id": message.suggestion_id}, headers=admin_user.headers
        )
        moves = await client.get(
            "/api/v1/admin/audit",
            params={"target_id": str(item["id"]), "action": "watchlist.item_tier_changed"},
            headers=admin_user.headers,
        )
    (entry,) = audit.json()["data"]["entries"]
    assert entry["action"] == "suggestion.approve" and entry["actor"]["user_id"] == admin_user.user_id
    assert entry["before"] == {"status": "pending"}
    assert entry["after"]["status"] == "approved" and entry["after"]["note"] == "strong momentum"
    assert moves.json()["data"]["total"] == 1

    changes = await read_topic(
        kafka_bootstrap_servers,
        topics.WATCHLIST_CHANGES.name,
        lambda m: m.suggestion_id == message.suggestion_id,
        1,
    )
    ((change, headers),) = changes
    assert change.kind == events_pb2.WATCHLIST_CHANGE_KIND_ITEM_TIER_CHANGED
    assert (change.symbol, change.tier, change.previous_tier) == (
        "AVAX",
        common_pb2.WATCHLIST_TIER_1,
        common_pb2.WATCHLIST_TIER_2,
    )
    assert headers["event-type"] == "cryptopredict.events.v1.WatchlistChanged"
    reviews = await read_topic(
        kafka_bootstrap_servers,
        topics.SUGGESTION_REVIEWS.name,
        lambda m: m.suggestion_id == message.suggestion_id,
        1,
    )
    assert reviews[0][0].decision == common_pb2.REVIEW_DECISION_APPROVE
    assert reviews[0][0].reviewer_email == admin_user.email

    again = await _review(admin, admin_user, message.suggestion_id, "reject")
    assert again.status_code == 409


async def test_two_concurrent_reviews_give_one_200_and_one_409(
    admin: RunningAdmin, publisher: Publisher, admin_user: Caller, auth_service: Auth
) -> None:
    second_admin = await auth_service.user("admin")
    message = suggestion("MKR", common_pb2.SUGGESTION_TYPE_ADD_TIER2)
    await _publish_and_wait(admin, publisher, message)
    first, second = await asyncio.gather(
        _review(admin, admin_user, message.suggestion_id, "approve"),
        _review(admin, second_admin, message.suggestion_id, "reject"),
    )
    assert sorted([first.status_code, second.status_code]) == [200, 409]
    loser = first if first.status_code == 409 else second
    assert loser.json()["error"].startswith("suggestion already ")
    async with admin.components.pool.acquire() as conn:
        reviews = await conn.fetchval(
            "SELECT count(*) FROM suggestion_reviews WHERE suggestion_id = $1",
            uuid.UUID(message.suggestion_id),
        )
        items = await conn.fetchval("SELECT count(*) FROM watchlist_items WHERE symbol = 'MKR'")
    assert reviews == 1
    assert items == (1 if first.status_code == 200 else 0)


async def test_deferred_suggestions_can_be_reviewed_again_and_stale_ones_expire(
    admin: RunningAdmin, publisher: Publisher, admin_user: Caller
) -> None:
    deferred = suggestion("AAVE", common_pb2.SUGGESTION_TYPE_ADD_TIER2)
    await _publish_and_wait(admin, publisher, deferred)
    assert (await _review(admin, admin_user, deferred.suggestion_id, "defer")).status_code == 200
    assert (await _queued(admin, deferred.suggestion_id))["status"] == "deferred"
    approved = await _review(admin, admin_user, deferred.suggestion_id, "approve")
    assert approved.status_code == 200 and approved.json()["data"]["watchlist_change"]["tier"] == "tier2"

    stale = suggestion("SAND", common_pb2.SUGGESTION_TYPE_ADD_TIER2)
    stale.suggested_at.FromDatetime(datetime.now(UTC) - timedelta(days=30))
    await _publish_and_wait(admin, publisher, stale)
    assert (await _review(admin, admin_user, stale.suggestion_id, "approve")).status_code == 409
    assert await suggestion_store.expire_stale(admin.components.pool) >= 1
    assert (await _queued(admin, stale.suggestion_id))["status"] == "expired"
    async with admin.client() as client:
        expired = await client.get(
            "/api/v1/layer3/suggestions",
            params={"status": "expired", "confidence_min": 0},
            headers=admin_user.headers,
        )
    assert stale.suggestion_id in [s["id"] for s in expired.json()["data"]["suggestions"]]


async def test_an_approval_that_no_longer_fits_the_watchlist_is_refused_and_changes_nothing(
    admin: RunningAdmin, publisher: Publisher, admin_user: Caller
) -> None:
    await _add(admin, admin_user, "MANA", "tier1")
    message = suggestion("MANA", common_pb2.SUGGESTION_TYPE_REMOVE_FROM_TIER2)
    await _publish_and_wait(admin, publisher, message)
    refused = await _review(admin, admin_user, message.suggestion_id, "approve")
    assert refused.status_code == 409 and "tier1" in refused.json()["error"]
    row = await _queued(admin, message.suggestion_id)
    assert row["status"] == "pending"
    async with admin.components.pool.acquire() as conn:
        assert await conn.fetchval("SELECT tier FROM watchlist_items WHERE symbol = 'MANA'") == 1


async def test_invalid_suggestions_go_to_the_dlq_and_the_queue_moves_on(
    admin: RunningAdmin, publisher: Publisher, kafka_bootstrap_servers: str
) -> None:
    poison = suggestion("ENJ")
    poison.suggestion_id = "not-a-uuid"
    out_of_range = suggestion("ENJ", confidence=1.5)
    await publisher.publish(SUGGESTIONS, poison)
    await publisher.publish(SUGGESTIONS, out_of_range)
    await _publish_and_wait(admin, publisher, suggestion("FTM"))
    dead = await read_topic(
        kafka_bootstrap_servers,
        topics.dlq_topic(SUGGESTIONS),
        lambda m: m.suggestion_id in {"not-a-uuid", out_of_range.suggestion_id},
        2,
    )
    assert len(dead) == 2
    assert await _queued(admin, out_of_range.suggestion_id) is None


async def test_user_administration_in_auth_lands_in_the_audit_log(
    admin: RunningAdmin, auth_service: Auth, admin_user: Caller
) -> None:
    target = await auth_service.user("casual")
    async with auth_service.client() as client:
        changed = await client.put(
            f"/api/v1/auth/users/{target.user_id}/role",
            json={"role": "professional"},
            headers=admin_user.headers,
        )
        assert changed.status_code == 200, changed.text
        deactivated = await client.post(
            f"/api/v1/auth/users/{target.user_id}/deactivate", headers=admin_user.headers
        )
        assert deactivated.status_code == 200

    async with admin.client() as client:

        async def audited() -> bool:
            response = await client.get(
                "/api/v1/admin/audit",
                params={"target_id": target.user_id, "source": "auth"},
                headers=admin_user.headers,
            )
            return response.json()["data"]["total"] == 2

        await eventually(audited, within=30, what="auth's user changes in the audit log")
        response = await client.get(
            "/api/v1/admin/audit", params={"target_id": target.user_id}, headers=admin_user.headers
        )
    deactivation, role_change = response.json()["data"]["entries"]
    assert role_change["action"] == "user.role_changed" and deactivation["action"] == "user.deactivated"
    assert role_change["actor"] == {"user_id": admin_user.user_id, "email": admin_user.email, "role": "admin"}
    assert role_change["before"] == {"role": "casual", "is_active": True}
    assert role_change["after"]["role"] == "professional"
    assert deactivation["after"]["is_active"] is False and deactivation["before"]["is_active"] is True
    assert role_change["request_id"]  # carried from auth's request through the event headers


async def test_the_audit_log_cannot_be_changed_or_deleted_even_by_the_services_own_role(
    admin: RunningAdmin, admin_user: Caller
) -> None:
    async with admin.components.pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM audit_log") > 0
        before = await conn.fetch("SELECT * FROM audit_log ORDER BY id")
        for statement in (
            "UPDATE audit_log SET action = 'forged'",
            "DELETE FROM audit_log",
            "TRUNCATE audit_log",
        ):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.execute(statement)
        assert await conn.fetch("SELECT * FROM audit_log ORDER BY id") == before
    async with admin.client() as client:
        for method in ("PUT", "PATCH", "DELETE"):
            response = await client.request(method, "/api/v1/admin/audit", headers=admin_user.headers)
            assert response.status_code == 405


async def test_the_audit_log_pages_and_filters(admin: RunningAdmin, admin_user: Caller) -> None:
    async with admin.client() as client:
        first = await client.get("/api/v1/admin/audit", params={"limit": 2}, headers=admin_user.headers)
        second = await client.get(
            "/api/v1/admin/audit", params={"limit": 2, "offset": 2}, headers=admin_user.headers
        )
        future = await client.get(
            "/api/v1/admin/audit", params={"since": "2999-01-01T00:00:00Z"}, headers=admin_user.headers
        )
        naive = await client.get(
            "/api/v1/admin/audit", params={"since": "2024-01-01T00:00:00"}, headers=admin_user.headers
        )
        bad = await client.get(
            "/api/v1/admin/audit", params={"actor_user_id": "nope"}, headers=admin_user.headers
        )
    page1, page2 = first.json()["data"], second.json()["data"]
    assert page1["total"] == page2["total"] >= 4
    assert len(page1["entries"]) == 2 and not {e["id"] for e in page1["entries"]} & {
        e["id"] for e in page2["entries"]
    }
    assert page1["entries"][0]["id"] > page2["entries"][0]["id"]
    assert future.json()["data"]["total"] == 0
    assert naive.status_code == 400 and bad.status_code == 422


async def test_system_health_reports_services_breakers_models_and_the_last_cascade_run(
    admin: RunningAdmin, publisher: Publisher, admin_user: Caller, monkeypatch, free_port
) -> None:
    monkeypatch.setenv("INGESTION_HTTP_URL", f"http://127.0.0.1:{free_port()}")  # nothing listens there
    await _add(admin, admin_user, "XMR", "tier1")
    await _publish_and_wait(admin, publisher, suggestion("CRO"))
    async with admin.client() as client:
        before = (await client.get("/api/v1/admin/system-health", headers=admin_user.headers)).json()["data"]
        run = cascade_pb2.CascadeRunUpdated(
            run_id=f"run-{uuid.uuid4().hex[:8]}",
            status=cascade_pb2.CASCADE_RUN_STATUS_SUCCEEDED,
            trigger=cascade_pb2.CASCADE_TRIGGER_SCHEDULE,
            signals_generated=3,
        )
        run.started_at.GetCurrentTime()
        run.finished_at.GetCurrentTime()
        await publisher.publish(topics.CASCADE_RUNS.name, run)

        async def seen() -> bool:
            health = await client.get("/api/v1/admin/system-health", headers=admin_user.headers)
            return health.json()["data"]["cascade"]["status"] == "available"

        await eventually(seen, within=30, what="the cascade run in system health")
        after = (await client.get("/api/v1/admin/system-health", headers=admin_user.headers)).json()["data"]
        dashboard = await client.get("/api/v1/dashboard/admin", headers=admin_user.headers)
    assert (
        before["cascade"]["status"] == "unavailable" or before["cascade"]["last_run"]["run_id"] != run.run_id
    )
    assert after["cascade"]["last_run"]["run_id"] == run.run_id and after["cascade"]["age_seconds"] < 60
    assert after["services"]["ingestion"] == {
        "status": "unavailable",
        "ready": False,
        "reason": "does not answer",
    }
    assert after["services"]["layer1-macro"]["status"] == "unavailable"
    assert after["services"]["admin"]["ready"] is True
    assert after["circuit_breakers"]["admin"]["admin-market-data"] == "closed"
    assert any(group.startswith("admin-test-") for group in after["consumer_lag"])
    assert after["models"]["status"] == "unavailable"
    assert after["overall"] == "degraded"
    sections = dashboard.json()["data"]
    assert set(sections) == {"watchlist_stats", "suggestion_queue", "system_health", "performance_metrics"}
    assert sections["suggestion_queue"]["by_status"]["pending"] >= 1
    assert sections["watchlist_stats"]["tier1_items"] >= 1
    assert sections["performance_metrics"]["status"] == "unavailable"
