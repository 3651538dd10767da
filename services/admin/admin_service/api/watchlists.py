"""``/api/v1/layer3/watchlists``: the caller's watchlists (admin lists and their own), details with
prices and scores, and item changes (admin lists: admins only; personal lists: their owner).
Limits per user and 60 s are the seeds' (list 100, detail 200, item changes 20)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path

from admin_service.api.deps import limited, watchlists
from admin_service.api.schemas import (
    BulkItemsCreate,
    BulkItemsRemove,
    ItemUpdate,
    PersonalWatchlistCreate,
    Reorder,
    WatchlistItemCreate,
    tier_of,
)
from admin_service.market import normalise_symbol
from admin_service.watchlists import NewItem, Watchlists
from cp_common.http import ok
from cp_common.http.openapi import error_responses
from cp_common.security import Principal

router = APIRouter(prefix="/api/v1/layer3/watchlists", tags=["watchlists"])

WatchlistId = Annotated[int, Path(ge=1, le=2**62)]
ItemPath = Annotated[int, Path(ge=1, le=2**62)]
Flows = Annotated[Watchlists, Depends(watchlists)]
Lister = Annotated[Principal, Depends(limited("watchlists", 100))]
Reader = Annotated[Principal, Depends(limited("watchlist-detail", 200))]
Writer = Annotated[Principal, Depends(limited("watchlist-items", 20))]


def _new(body: WatchlistItemCreate) -> NewItem:
    return NewItem(normalise_symbol(body.crypto_symbol), tier_of(body.tier))


@router.get("", responses=error_responses(429))
async def list_watchlists(principal: Lister, flows: Flows) -> object:
    """Both admin watchlists and the caller's personal watchlists."""
    lists = await flows.visible(principal)
    return ok({"watchlists": lists, "total_watchlists": len(lists)})


@router.post("", status_code=201, responses=error_responses(409, 429))
async def create_watchlist(body: PersonalWatchlistCreate, principal: Writer, flows: Flows) -> object:
    return ok(await flows.create_personal(principal, body.name))


@router.get("/{watchlist_id}", responses=error_responses(429))
async def get_watchlist(watchlist_id: WatchlistId, principal: Reader, flows: Flows) -> object:
    """Items with current price, 24h change and the latest Layer 3 score (cached 60 s)."""
    return ok(await flows.detail(principal, watchlist_id))


@router.delete("/{watchlist_id}", responses=error_responses(409, 429))
async def delete_watchlist(watchlist_id: WatchlistId, principal: Writer, flows: Flows) -> object:
    await flows.delete_personal(principal, watchlist_id)
    return ok({"message": "Watchlist deleted"})


@router.post("/{watchlist_id}/items", status_code=201, responses=error_responses(409, 429))
async def add_item(
    watchlist_id: WatchlistId, body: WatchlistItemCreate, principal: Writer, flows: Flows
) -> object:
    new = _new(body)
    (item,) = await flows.add_items(principal, watchlist_id, [new])
    return ok({"item": item, "message": f"Added {new.symbol} to {new.tier.label}"})


@router.post("/{watchlist_id}/items/bulk", status_code=201, responses=error_responses(409, 429))
async def add_items(
    watchlist_id: WatchlistId, body: BulkItemsCreate, principal: Writer, flows: Flows
) -> object:
    """Add several assets at once: all or none."""
    items = await flows.add_items(principal, watchlist_id, [_new(item) for item in body.items])
    return ok({"items": items, "message": f"Added {len(items)} items"})


@router.post("/{watchlist_id}/items/bulk-remove", responses=error_responses(429))
async def remove_items(
    watchlist_id: WatchlistId, body: BulkItemsRemove, principal: Writer, flows: Flows
) -> object:
    """Remove several items at once: all or none."""
    removed = await flows.remove_items(principal, watchlist_id, body.item_ids)
    return ok({"items": removed, "message": f"Removed {len(removed)} items"})


@router.delete("/{watchlist_id}/items/{item_id}", responses=error_responses(429))
async def remove_item(
    watchlist_id: WatchlistId, item_id: ItemPath, principal: Writer, flows: Flows
) -> object:
    (removed,) = await flows.remove_items(principal, watchlist_id, [item_id])
    return ok({"item": removed, "message": "Item removed from watchlist"})


@router.patch("/{watchlist_id}/items/{item_id}", responses=error_responses(409, 429))
async def update_item(
    watchlist_id: WatchlistId, item_id: ItemPath, body: ItemUpdate, principal: Writer, flows: Flows
) -> object:
    """Move an item to the other tier and/or pause or resume it."""
    tier = tier_of(body.tier) if body.tier is not None else None
    return ok(await flows.update_item(principal, watchlist_id, item_id, tier=tier, status=body.status))


@router.put("/{watchlist_id}/order", responses=error_responses(429))
async def reorder(watchlist_id: WatchlistId, body: Reorder, principal: Writer, flows: Flows) -> object:
    """Set the priority order: ``item_ids`` lists every item once, in the new order."""
    ids: list[int] = list(body.item_ids)
    return ok({"items": await flows.reorder(principal, watchlist_id, ids)})
