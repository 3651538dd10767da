"""``cpctl watchlists``: show, add, remove (admin watchlist: admins; personal lists: their owner)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

import typer

from cpctl import output
from cpctl.output import Column
from cpctl.state import state

ADMIN = "admin"
app = typer.Typer(help="Watchlists (tier 1: deep analysis, tier 2: light scan).", no_args_is_help=True)


class TierName(StrEnum):
    TIER1 = "tier1"
    TIER2 = "tier2"


LIST_COLUMNS = [
    Column("id", "id"),
    Column("kind", "kind"),
    Column("name", "name"),
    Column("items", "item_count", "num"),
    Column("updated", "updated_at"),
]
ITEM_COLUMNS = [
    Column("item", "id"),
    Column("symbol", "symbol"),
    Column("tier", "tier"),
    Column("priority", "priority_order", "num"),
    Column("status", "status"),
    Column("price", "market.price_usd", "usd"),
    Column("24h", "market.change_24h_pct", "pct"),
    Column("L3 score", "layer3.ai_score", "num"),
]


@app.command("list")
def list_watchlists(ctx: typer.Context) -> None:
    """The admin watchlist and your personal ones."""
    current = state(ctx)
    data = current.client.call("GET", "/api/v1/layer3/watchlists", service=ADMIN)
    output.show(data, current.as_json, lambda d: output.table(d["watchlists"], LIST_COLUMNS))


@app.command("show")
def show(ctx: typer.Context, watchlist_id: Annotated[int, typer.Argument(min=1)] = 1) -> None:
    """Items with price, 24h change and the latest Layer 3 score (default: the admin watchlist)."""
    current = state(ctx)
    data = current.client.call("GET", f"/api/v1/layer3/watchlists/{watchlist_id}", service=ADMIN)

    def render(d: dict[str, Any]) -> None:
        output.table(d["items"], ITEM_COLUMNS, title=f"{d['name']} (#{d['id']}, {d['kind']})")
        if d.get("market_data") == "unavailable":
            output.stderr.print("[yellow]market data unavailable: prices are not shown[/yellow]")

    output.show(data, current.as_json, render)


@app.command("add")
def add(
    ctx: typer.Context,
    symbols: Annotated[list[str], typer.Argument(help="one or more symbols, e.g. SOL AVAX")],
    tier: Annotated[TierName, typer.Option(help="tier of the new items")] = TierName.TIER2,
    watchlist_id: Annotated[int, typer.Option("--watchlist", min=1, help="watchlist id")] = 1,
) -> None:
    """Add assets (all or none) to a watchlist."""
    current = state(ctx)
    body = {"items": [{"crypto_symbol": s, "tier": tier.value} for s in symbols]}
    data = current.client.call(
        "POST", f"/api/v1/layer3/watchlists/{watchlist_id}/items/bulk", service=ADMIN, body=body
    )
    output.show(
        data, current.as_json, lambda d: output.table(d["items"], ITEM_COLUMNS[:5], title=d["message"])
    )


@app.command("remove")
def remove(
    ctx: typer.Context,
    item_ids: Annotated[list[int], typer.Argument(help="item ids (see `watchlists show`)")],
    watchlist_id: Annotated[int, typer.Option("--watchlist", min=1, help="watchlist id")] = 1,
) -> None:
    """Remove items (all or none) from a watchlist."""
    current = state(ctx)
    path = f"/api/v1/layer3/watchlists/{watchlist_id}/items/bulk-remove"
    data = current.client.call("POST", path, service=ADMIN, body={"item_ids": item_ids})
    output.show(
        data, current.as_json, lambda d: output.table(d["items"], ITEM_COLUMNS[:5], title=d["message"])
    )
