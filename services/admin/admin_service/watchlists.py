"""Watchlist use cases: who may read and change which list, validation against the market data
universe, and the cached detail view with prices, 24h changes and the latest Layer 3 scores."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
from redis.exceptions import RedisError

from admin_service import changes, events
from admin_service.components import AdminComponents
from admin_service.domain import Tier, WatchlistKind
from admin_service.storage import read_models
from admin_service.storage import watchlists as store
from admin_service.storage.audit import Actor
from cp_common.errors import BadRequest, Conflict, Forbidden, NotFound, ServiceError
from cp_common.security import Principal
from cryptopredict.events.v1 import watchlists_pb2 as events_pb2

log = logging.getLogger(__name__)

WATCHLIST_NOT_FOUND = "Watchlist not found"
ITEM_NOT_FOUND = "Watchlist item not found"
ADMIN_REQUIRED = "Admin privileges required"


@dataclass(frozen=True)
class NewItem:
    symbol: str
    tier: Tier


def _readable(principal: Principal, watchlist: asyncpg.Record | None) -> asyncpg.Record:
    """Admin lists are readable by every user; a personal list only by its owner."""
    if watchlist is None:
        raise NotFound(WATCHLIST_NOT_FOUND)
    if (
        watchlist["kind"] == WatchlistKind.PERSONAL.value
        and str(watchlist["owner_user_id"]) != principal.user_id
    ):
        raise NotFound(WATCHLIST_NOT_FOUND)
    return watchlist


def _writable(principal: Principal, watchlist: asyncpg.Record | None) -> asyncpg.Record:
    watchlist = _readable(principal, watchlist)
    if watchlist["kind"] == WatchlistKind.ADMIN.value and not principal.is_admin:
        raise Forbidden(ADMIN_REQUIRED)
    return watchlist


class Watchlists:
    def __init__(self, components: AdminComponents) -> None:
        self.c = components

    async def visible(self, principal: Principal) -> list[dict[str, Any]]:
        async with self.c.pool.acquire() as conn:
            rows = await store.visible_to(conn, principal.user_id)
        return [store.watchlist_view(row) for row in rows]

    async def detail(self, principal: Principal, watchlist_id: int) -> dict[str, Any]:
        async with self.c.pool.acquire() as conn:
            watchlist = _readable(principal, await store.get(conn, watchlist_id))
        ttl = self.c.settings.admin_watchlist_cache_s
        try:
            return await self.c.watchlist_cache.get_or_set(
                str(watchlist_id), ttl, lambda: self._detail(watchlist)
            )
        except (RedisError, OSError):
            log.warning("watchlist cache unavailable; answering uncached", exc_info=True)
            return await self._detail(watchlist)

    async def _detail(self, watchlist: asyncpg.Record) -> dict[str, Any]:
        async with self.c.pool.acquire() as conn:
            rows = await store.items(conn, watchlist["id"])
            scores = await read_models.asset_scores(conn, [row["symbol"] for row in rows])
        quotes, market_status = await self._quotes()
        items = []
        for row in rows:
            view = store.item_view(row)
            view["market"] = quotes.get(row["symbol"])
            view["layer3"] = scores.get(row["symbol"])
            items.append(view)
        return {**store.watchlist_view(watchlist), "items": items, "market_data": market_status}

    async def _quotes(self) -> tuple[dict[str, dict[str, Any]], str]:
        """Quotes if ingestion answers; otherwise the list is still shown, marked unavailable."""
        try:
            return await self.c.market.quotes(), "available"
        except ServiceError as exc:
            log.warning("watchlist quotes unavailable", extra={"error": exc.message})
            return {}, "unavailable"

    async def add_items(
        self, principal: Principal, watchlist_id: int, new_items: Sequence[NewItem]
    ) -> list[dict[str, Any]]:
        symbols = [item.symbol for item in new_items]
        if len(set(symbols)) != len(symbols):
            raise BadRequest("a symbol appears more than once")
        async with self.c.pool.acquire() as conn:
            _writable(principal, await store.get(conn, watchlist_id))
        await self.c.market.require_existing(symbols)
        actor = Actor.of(principal)
        async with self.c.pool.acquire() as conn, conn.transaction():
            watchlist = _writable(principal, await store.get(conn, watchlist_id, lock=True))
            if (
                await store.count_items(conn, watchlist_id) + len(new_items)
                > self.c.settings.admin_max_items_per_watchlist
            ):
                raise Conflict("the watchlist is full")
            added = []
            for item in new_items:
                if await store.item_by_symbol(conn, watchlist_id, item.symbol) is not None:
                    raise Conflict(f"{item.symbol} is already on this watchlist")
                added.append(await changes.add_item(conn, watchlist, item.symbol, item.tier, actor))
        await self._invalidate(watchlist_id)
        return added

    async def remove_items(
        self, principal: Principal, watchlist_id: int, item_ids: Sequence[int]
    ) -> list[dict[str, Any]]:
        if len(set(item_ids)) != len(item_ids):
            raise BadRequest("an item id appears more than once")
        actor = Actor.of(principal)
        async with self.c.pool.acquire() as conn, conn.transaction():
            watchlist = _writable(principal, await store.get(conn, watchlist_id, lock=True))
            removed = []
            for item_id in item_ids:
                item = await store.item(conn, watchlist_id, item_id)
                if item is None:
                    raise NotFound(ITEM_NOT_FOUND)
                removed.append(await changes.remove_item(conn, watchlist, item, actor))
        await self._invalidate(watchlist_id)
        return removed

    async def update_item(
        self, principal: Principal, watchlist_id: int, item_id: int, *, tier: Tier | None, status: str | None
    ) -> dict[str, Any]:
        """Move an item to another tier and/or pause or resume it; 409 if nothing would change."""
        actor = Actor.of(principal)
        async with self.c.pool.acquire() as conn, conn.transaction():
            watchlist = _writable(principal, await store.get(conn, watchlist_id, lock=True))
            item = await store.item(conn, watchlist_id, item_id)
            if item is None:
                raise NotFound(ITEM_NOT_FOUND)
            view = None
            if tier is not None and item["tier"] != tier:
                view = await changes.move_item(conn, watchlist, item, tier, actor)
                item = await store.item(conn, watchlist_id, item_id) or item
            if status is not None and item["status"] != status:
                view = await changes.set_item_status(conn, watchlist, item, status, actor)
            if view is None:
                raise Conflict(
                    f"{item['symbol']} is already {store.item_view(item)['tier']} and {item['status']}"
                )
        await self._invalidate(watchlist_id)
        return view

    async def reorder(
        self, principal: Principal, watchlist_id: int, item_ids: Sequence[int]
    ) -> list[dict[str, Any]]:
        actor = Actor.of(principal)
        async with self.c.pool.acquire() as conn, conn.transaction():
            watchlist = _writable(principal, await store.get(conn, watchlist_id, lock=True))
            current = {row["id"] for row in await store.items(conn, watchlist_id)}
            if len(item_ids) != len(set(item_ids)) or set(item_ids) != current:
                raise BadRequest("item_ids must list every item of the watchlist exactly once")
            await changes.reorder(conn, watchlist, list(item_ids), actor)
            rows = await store.items(conn, watchlist_id)
        await self._invalidate(watchlist_id)
        return [store.item_view(row) for row in rows]

    async def create_personal(self, principal: Principal, name: str) -> dict[str, Any]:
        async with self.c.pool.acquire() as conn, conn.transaction():
            # One user's creations are serialised so the per-user cap holds under concurrency.
            await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", principal.user_id)
            if (
                await store.count_personal(conn, principal.user_id)
                >= self.c.settings.admin_max_personal_watchlists
            ):
                raise Conflict("personal watchlist limit reached")
            row = await store.create_personal(conn, principal.user_id, name)
            await events.publish_watchlist_changed(
                conn,
                watchlist_id=row["id"],
                kind=events_pb2.WATCHLIST_CHANGE_KIND_WATCHLIST_CREATED,
                actor_user_id=principal.user_id,
            )
        return store.watchlist_view(row)

    async def delete_personal(self, principal: Principal, watchlist_id: int) -> None:
        async with self.c.pool.acquire() as conn, conn.transaction():
            watchlist = _readable(principal, await store.get(conn, watchlist_id, lock=True))
            if watchlist["kind"] != WatchlistKind.PERSONAL.value:
                raise Conflict("the admin watchlist cannot be deleted")
            await store.delete(conn, watchlist_id)
            await events.publish_watchlist_changed(
                conn,
                watchlist_id=watchlist_id,
                kind=events_pb2.WATCHLIST_CHANGE_KIND_WATCHLIST_DELETED,
                actor_user_id=principal.user_id,
            )
        await self._invalidate(watchlist_id)

    async def admin_view(self) -> dict[str, Any]:
        """The admin watchlist's tiers as the cascade sees them (``GET /api/v1/admin/watchlist``)."""
        async with self.c.pool.acquire() as conn:
            admin_id = await store.admin_watchlist_id(conn)
            watchlist = await store.get(conn, admin_id)
            rows = await store.items(conn, admin_id)
        views = [store.item_view(row) for row in rows]
        return {
            **store.watchlist_view(watchlist),
            "tier1_items": [v for v in views if v["tier"] == Tier.TIER1.label],
            "tier2_items": [v for v in views if v["tier"] == Tier.TIER2.label],
        }

    async def _invalidate(self, watchlist_id: int) -> None:
        await invalidate_detail(self.c, watchlist_id)


async def invalidate_detail(components: AdminComponents, watchlist_id: int) -> None:
    """Drop the cached detail after a committed change; if Redis fails the entry lives out its
    short TTL, and the change (already committed) is not reported as failed."""
    try:
        await components.watchlist_cache.delete(str(watchlist_id))
    except (RedisError, OSError):
        log.warning("watchlist cache invalidation failed", exc_info=True)
