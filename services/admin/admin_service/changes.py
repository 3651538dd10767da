"""Watchlist changes as one unit: the row change, its ``watchlist.changes.v1`` event and, on an
admin watchlist, its audit entry, all on the caller's connection inside its transaction.

Both the REST routes and suggestion approval change watchlists through these functions, so an
approved promotion and a hand-made tier move leave exactly the same trail.
"""

from __future__ import annotations

from typing import Any

import asyncpg

from admin_service import events
from admin_service.domain import Tier, WatchlistKind
from admin_service.storage import audit
from admin_service.storage import watchlists as store
from admin_service.storage.audit import Actor
from cryptopredict.events.v1 import watchlists_pb2 as events_pb2

SOURCE = "admin"


async def _audit(
    conn: asyncpg.Connection,
    watchlist: asyncpg.Record,
    actor: Actor,
    action: str,
    target_id: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    if watchlist["kind"] == WatchlistKind.ADMIN.value:
        await audit.record(
            conn,
            source=SOURCE,
            actor=actor,
            action=action,
            target_type="watchlist_item",
            target_id=target_id,
            before=before,
            after=after,
        )


async def add_item(
    conn: asyncpg.Connection,
    watchlist: asyncpg.Record,
    symbol: str,
    tier: Tier,
    actor: Actor,
    *,
    suggestion_id: str = "",
) -> dict[str, Any]:
    row = await store.insert_item(conn, watchlist["id"], symbol, tier, actor.user_id)
    view = store.item_view(row)
    await events.publish_watchlist_changed(
        conn,
        watchlist_id=watchlist["id"],
        kind=events_pb2.WATCHLIST_CHANGE_KIND_ITEM_ADDED,
        actor_user_id=actor.user_id,
        item_id=row["id"],
        symbol=symbol,
        tier=tier,
        suggestion_id=suggestion_id,
        status=row["status"],
    )
    await _audit(conn, watchlist, actor, "watchlist.item_added", str(row["id"]), None, view)
    await store.touch(conn, watchlist["id"])
    return view


async def move_item(
    conn: asyncpg.Connection,
    watchlist: asyncpg.Record,
    item: asyncpg.Record,
    tier: Tier,
    actor: Actor,
    *,
    suggestion_id: str = "",
) -> dict[str, Any]:
    before = store.item_view(item)
    row = await store.set_tier(conn, item["id"], tier)
    view = store.item_view(row)
    await events.publish_watchlist_changed(
        conn,
        watchlist_id=watchlist["id"],
        kind=events_pb2.WATCHLIST_CHANGE_KIND_ITEM_TIER_CHANGED,
        actor_user_id=actor.user_id,
        item_id=row["id"],
        symbol=row["symbol"],
        tier=tier,
        previous_tier=Tier(item["tier"]),
        suggestion_id=suggestion_id,
        status=row["status"],
    )
    await _audit(conn, watchlist, actor, "watchlist.item_tier_changed", str(row["id"]), before, view)
    await store.touch(conn, watchlist["id"])
    return view


async def set_item_status(
    conn: asyncpg.Connection, watchlist: asyncpg.Record, item: asyncpg.Record, status: str, actor: Actor
) -> dict[str, Any]:
    before = store.item_view(item)
    row = await store.set_status(conn, item["id"], status)
    view = store.item_view(row)
    await events.publish_watchlist_changed(
        conn,
        watchlist_id=watchlist["id"],
        kind=events_pb2.WATCHLIST_CHANGE_KIND_ITEM_STATUS_CHANGED,
        actor_user_id=actor.user_id,
        item_id=row["id"],
        symbol=row["symbol"],
        tier=Tier(row["tier"]),
        previous_tier=Tier(item["tier"]),
        status=status,
    )
    await _audit(conn, watchlist, actor, "watchlist.item_status_changed", str(row["id"]), before, view)
    await store.touch(conn, watchlist["id"])
    return view


async def remove_item(
    conn: asyncpg.Connection,
    watchlist: asyncpg.Record,
    item: asyncpg.Record,
    actor: Actor,
    *,
    suggestion_id: str = "",
) -> dict[str, Any]:
    before = store.item_view(item)
    await store.delete_item(conn, item["id"])
    await events.publish_watchlist_changed(
        conn,
        watchlist_id=watchlist["id"],
        kind=events_pb2.WATCHLIST_CHANGE_KIND_ITEM_REMOVED,
        actor_user_id=actor.user_id,
        item_id=item["id"],
        symbol=item["symbol"],
        previous_tier=Tier(item["tier"]),
        suggestion_id=suggestion_id,
    )
    await _audit(conn, watchlist, actor, "watchlist.item_removed", str(item["id"]), before, None)
    await store.touch(conn, watchlist["id"])
    return before


async def reorder(
    conn: asyncpg.Connection, watchlist: asyncpg.Record, item_ids: list[int], actor: Actor
) -> None:
    before = [row["id"] for row in await store.items(conn, watchlist["id"])]
    await store.reorder(conn, watchlist["id"], item_ids)
    after = [row["id"] for row in await store.items(conn, watchlist["id"])]
    if watchlist["kind"] == WatchlistKind.ADMIN.value:
        await audit.record(
            conn,
            source=SOURCE,
            actor=actor,
            action="watchlist.reordered",
            target_type="watchlist",
            target_id=str(watchlist["id"]),
            before={"item_ids": before},
            after={"item_ids": after},
        )
    await events.publish_watchlist_changed(
        conn,
        watchlist_id=watchlist["id"],
        kind=events_pb2.WATCHLIST_CHANGE_KIND_ITEMS_REORDERED,
        actor_user_id=actor.user_id,
    )
    await store.touch(conn, watchlist["id"])
