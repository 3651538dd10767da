"""Reviewing Layer 3's suggestions: approve (the watchlist change is applied), reject or defer.

One transaction holds the suggestion row lock, applies the change, records the review and the
audit entry and writes the events to the outbox. Two admins reviewing the same suggestion at once
queue on that lock; the second sees it already decided and gets 409.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import asyncpg

from admin_service import changes, events
from admin_service.components import AdminComponents
from admin_service.domain import REVIEWABLE, Decision, SuggestionStatus, SuggestionType, Tier
from admin_service.storage import audit
from admin_service.storage import suggestions as store
from admin_service.storage import watchlists as watchlist_store
from admin_service.storage.audit import Actor
from admin_service.watchlists import invalidate_detail
from cp_common.errors import Conflict, NotFound
from cp_common.security import Principal

SUGGESTION_NOT_FOUND = "Suggestion not found"


async def _apply(conn: asyncpg.Connection, suggestion: asyncpg.Record, actor: Actor) -> dict[str, Any]:
    """Make the approved change on the admin watchlist; 409 when it no longer fits the list."""
    kind = SuggestionType(suggestion["suggestion_type"])
    symbol = suggestion["symbol"]
    suggestion_id = str(suggestion["id"])
    watchlist = await watchlist_store.get(conn, await watchlist_store.admin_watchlist_id(conn), lock=True)
    if watchlist is None:
        raise NotFound("the admin watchlist is missing")
    item = await watchlist_store.item_by_symbol(conn, watchlist["id"], symbol)
    tier = Tier(item["tier"]) if item is not None else None
    if kind is SuggestionType.ADD_TIER2 and item is None:
        return await changes.add_item(conn, watchlist, symbol, Tier.TIER2, actor, suggestion_id=suggestion_id)
    if kind is SuggestionType.PROMOTE_TO_TIER1 and item is None:
        return await changes.add_item(conn, watchlist, symbol, Tier.TIER1, actor, suggestion_id=suggestion_id)
    if kind is SuggestionType.PROMOTE_TO_TIER1 and tier is Tier.TIER2:
        return await changes.move_item(conn, watchlist, item, Tier.TIER1, actor, suggestion_id=suggestion_id)
    if kind is SuggestionType.DEMOTE_TO_TIER2 and tier is Tier.TIER1:
        return await changes.move_item(conn, watchlist, item, Tier.TIER2, actor, suggestion_id=suggestion_id)
    if kind is SuggestionType.REMOVE_FROM_TIER2 and tier is Tier.TIER2:
        return await changes.remove_item(conn, watchlist, item, actor, suggestion_id=suggestion_id)
    where = tier.label if tier is not None else "not on the admin watchlist"
    raise Conflict(f"cannot {kind.value.replace('_', ' ')}: {symbol} is {where}")


class Reviews:
    def __init__(self, components: AdminComponents) -> None:
        self.c = components

    async def queue(
        self, *, status: SuggestionStatus, confidence_min: float, limit: int
    ) -> list[dict[str, Any]]:
        rows = await store.queue(self.c.pool, status=status, confidence_min=confidence_min, limit=limit)
        return [store.suggestion_view(row) for row in rows]

    async def review(
        self, principal: Principal, suggestion_id: str, decision: Decision, note: str
    ) -> dict[str, Any]:
        async with self.c.pool.acquire() as conn:
            peek = await store.get(conn, suggestion_id)
        if peek is None:
            raise NotFound(SUGGESTION_NOT_FOUND)
        if decision is Decision.APPROVE and peek["suggestion_type"] == SuggestionType.ADD_TIER2.value:
            await self.c.market.require_existing([peek["symbol"]])
        actor = Actor.of(principal)
        async with self.c.pool.acquire() as conn, conn.transaction():
            suggestion = self._reviewable(await store.get(conn, suggestion_id, lock=True))
            change = await _apply(conn, suggestion, actor) if decision is Decision.APPROVE else None
            updated = await store.set_status(conn, suggestion_id, decision.status)
            review = await store.add_review(
                conn, suggestion_id, decision, principal.user_id, principal.email, note
            )
            await events.publish_suggestion_reviewed(
                conn,
                review_id=str(review["id"]),
                suggestion_id=suggestion_id,
                symbol=suggestion["symbol"],
                suggestion_type=SuggestionType(suggestion["suggestion_type"]),
                decision=decision,
                reviewer_user_id=principal.user_id,
                reviewer_email=principal.email,
                comment=note,
            )
            await audit.record(
                conn,
                source=changes.SOURCE,
                actor=actor,
                action=f"suggestion.{decision.value}",
                target_type="suggestion",
                target_id=suggestion_id,
                before={"status": suggestion["status"]},
                after={"status": updated["status"], "note": note, "watchlist_change": change},
            )
        if change is not None:
            await invalidate_detail(self.c, change["watchlist_id"])
        return {
            "suggestion": store.suggestion_view(updated),
            "review_id": str(review["id"]),
            "watchlist_change": change,
        }

    @staticmethod
    def _reviewable(suggestion: asyncpg.Record | None) -> asyncpg.Record:
        if suggestion is None:
            raise NotFound(SUGGESTION_NOT_FOUND)
        if suggestion["status"] not in REVIEWABLE:
            raise Conflict(f"suggestion already {suggestion['status']}")
        if suggestion["expires_at"] <= datetime.now(UTC):
            raise Conflict("suggestion expired")
        return suggestion
