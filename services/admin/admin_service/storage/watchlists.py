"""Watchlists and their items. Admin watchlists feed the cascade (tier per item); personal
watchlists belong to one user."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import asyncpg

from admin_service.domain import Tier, WatchlistKind

ITEM_COLUMNS = "id, watchlist_id, symbol, tier, status, priority_order, added_by, added_at, updated_at"


def watchlist_view(row: asyncpg.Record) -> dict[str, Any]:
    view = {
        "id": row["id"],
        "kind": row["kind"],
        "name": row["name"],
        "owner_user_id": str(row["owner_user_id"]) if row["owner_user_id"] else None,
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }
    if "item_count" in row:
        view["item_count"] = row["item_count"]
    return view


def item_view(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "id": row["id"],
        "watchlist_id": row["watchlist_id"],
        "symbol": row["symbol"],
        "tier": Tier(row["tier"]).label,
        "status": row["status"],
        "priority_order": row["priority_order"],
        "added_by": str(row["added_by"]) if row["added_by"] else None,
        "added_at": row["added_at"],
        "updated_at": row["updated_at"],
    }


async def get(conn: asyncpg.Connection, watchlist_id: int, *, lock: bool = False) -> asyncpg.Record | None:
    suffix = " FOR UPDATE" if lock else ""
    return await conn.fetchrow(f"SELECT * FROM watchlists WHERE id = $1{suffix}", watchlist_id)  # noqa: S608


async def admin_watchlist_id(conn: asyncpg.Connection) -> int:
    """The admin watchlist the cascade works on (created by the first migration)."""
    return await conn.fetchval("SELECT min(id) FROM watchlists WHERE kind = 'admin'")


async def visible_to(conn: asyncpg.Connection, user_id: str) -> list[asyncpg.Record]:
    """Admin watchlists and the user's personal ones, with item counts (admin lists first)."""
    return await conn.fetch(
        "SELECT w.*, (SELECT count(*) FROM watchlist_items i WHERE i.watchlist_id = w.id) AS item_count "
        "FROM watchlists w WHERE w.kind = 'admin' OR w.owner_user_id = $1 "
        "ORDER BY (w.kind <> 'admin'), w.id",
        uuid.UUID(user_id),
    )


async def count_personal(conn: asyncpg.Connection, user_id: str) -> int:
    return await conn.fetchval("SELECT count(*) FROM watchlists WHERE owner_user_id = $1", uuid.UUID(user_id))


async def create_personal(conn: asyncpg.Connection, user_id: str, name: str) -> asyncpg.Record:
    return await conn.fetchrow(
        "INSERT INTO watchlists (kind, name, owner_user_id) VALUES ($1, $2, $3) RETURNING *",
        WatchlistKind.PERSONAL.value,
        name,
        uuid.UUID(user_id),
    )


async def delete(conn: asyncpg.Connection, watchlist_id: int) -> None:
    await conn.execute("DELETE FROM watchlists WHERE id = $1", watchlist_id)


async def items(conn: asyncpg.Connection, watchlist_id: int) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"SELECT {ITEM_COLUMNS} FROM watchlist_items WHERE watchlist_id = $1 "  # noqa: S608
        "ORDER BY tier, priority_order, id",
        watchlist_id,
    )


async def item(conn: asyncpg.Connection, watchlist_id: int, item_id: int) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"SELECT {ITEM_COLUMNS} FROM watchlist_items WHERE watchlist_id = $1 AND id = $2 FOR UPDATE",  # noqa: S608
        watchlist_id,
        item_id,
    )


async def item_by_symbol(conn: asyncpg.Connection, watchlist_id: int, symbol: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"SELECT {ITEM_COLUMNS} FROM watchlist_items WHERE watchlist_id = $1 AND symbol = $2 FOR UPDATE",  # noqa: S608
        watchlist_id,
        symbol,
    )


async def count_items(conn: asyncpg.Connection, watchlist_id: int) -> int:
    return await conn.fetchval("SELECT count(*) FROM watchlist_items WHERE watchlist_id = $1", watchlist_id)


async def insert_item(
    conn: asyncpg.Connection, watchlist_id: int, symbol: str, tier: Tier, added_by: str | None
) -> asyncpg.Record:
    """Append ``symbol`` at the end of its tier."""
    return await conn.fetchrow(
        "INSERT INTO watchlist_items (watchlist_id, symbol, tier, priority_order, added_by) "  # noqa: S608
        "VALUES ($1, $2, $3, (SELECT coalesce(max(priority_order) + 1, 0) FROM watchlist_items "
        f"WHERE watchlist_id = $1 AND tier = $3), $4) RETURNING {ITEM_COLUMNS}",
        watchlist_id,
        symbol,
        int(tier),
        uuid.UUID(added_by) if added_by else None,
    )


async def delete_item(conn: asyncpg.Connection, item_id: int) -> None:
    await conn.execute("DELETE FROM watchlist_items WHERE id = $1", item_id)


async def set_tier(conn: asyncpg.Connection, item_id: int, tier: Tier) -> asyncpg.Record:
    """Move the item to the end of ``tier``."""
    return await conn.fetchrow(
        "UPDATE watchlist_items i SET tier = $2, updated_at = now(), priority_order = "  # noqa: S608
        "(SELECT coalesce(max(priority_order) + 1, 0) FROM watchlist_items o "
        "WHERE o.watchlist_id = i.watchlist_id AND o.tier = $2) "
        f"WHERE id = $1 RETURNING {ITEM_COLUMNS}",
        item_id,
        int(tier),
    )


async def set_status(conn: asyncpg.Connection, item_id: int, status: str) -> asyncpg.Record:
    return await conn.fetchrow(
        f"UPDATE watchlist_items SET status = $2, updated_at = now() WHERE id = $1 RETURNING {ITEM_COLUMNS}",  # noqa: S608
        item_id,
        status,
    )


async def reorder(conn: asyncpg.Connection, watchlist_id: int, item_ids: Sequence[int]) -> None:
    """Give the items ``0, 1, 2...`` in the order listed (the caller checked they belong here)."""
    await conn.execute(
        "UPDATE watchlist_items i SET priority_order = o.position - 1, updated_at = now() "
        "FROM unnest($2::bigint[]) WITH ORDINALITY AS o(id, position) "
        "WHERE i.id = o.id AND i.watchlist_id = $1",
        watchlist_id,
        list(item_ids),
    )


async def touch(conn: asyncpg.Connection, watchlist_id: int) -> None:
    await conn.execute("UPDATE watchlists SET updated_at = now() WHERE id = $1", watchlist_id)


async def tier_sets(conn: asyncpg.Connection | asyncpg.Pool) -> list[asyncpg.Record]:
    """Active items of every admin watchlist, tier 1 first, in priority order."""
    return await conn.fetch(
        "SELECT i.id, i.watchlist_id, i.symbol, i.tier, i.priority_order, w.updated_at "
        "FROM watchlist_items i JOIN watchlists w ON w.id = i.watchlist_id "
        "WHERE w.kind = 'admin' AND i.status = 'active' ORDER BY i.tier, i.priority_order, i.id"
    )


async def last_admin_change(conn: asyncpg.Connection | asyncpg.Pool) -> Any:
    return await conn.fetchval("SELECT max(updated_at) FROM watchlists WHERE kind = 'admin'")


async def stats(conn: asyncpg.Connection | asyncpg.Pool) -> dict[str, Any]:
    row = await conn.fetchrow(
        "SELECT "
        "(SELECT count(*) FROM watchlists WHERE kind = 'admin') AS admin_watchlists, "
        "(SELECT count(*) FROM watchlists WHERE kind = 'personal') AS personal_watchlists, "
        "(SELECT count(DISTINCT owner_user_id) FROM watchlists WHERE kind = 'personal') AS users_with_lists, "
        "count(*) FILTER (WHERE i.tier = 1) AS tier1_items, "
        "count(*) FILTER (WHERE i.tier = 2) AS tier2_items, "
        "count(*) FILTER (WHERE i.status <> 'active') AS paused_items "
        "FROM watchlist_items i JOIN watchlists w ON w.id = i.watchlist_id AND w.kind = 'admin'"
    )
    return dict(row)
