"""Market and analysis reads: ``regime`` (Layer 1), ``sectors`` (Layer 2), ``assets`` (ingestion),
``health`` (the fleet)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from cpctl import output
from cpctl.output import Column
from cpctl.state import state

sectors = typer.Typer(help="Layer 2 sector rotation.", no_args_is_help=True)
assets = typer.Typer(help="Assets of the market data universe.", no_args_is_help=True)

ASSET_COLUMNS = [
    Column("rank", "market_cap_rank", "num"),
    Column("symbol", "symbol"),
    Column("name", "name"),
    Column("sector", "sector"),
    Column("price", "quote.price_usd", "usd"),
    Column("24h", "quote.change_24h_pct", "pct"),
    Column("market cap", "quote.market_cap_usd", "usd"),
]
SECTOR_COLUMNS = [
    Column("rank", "rank", "num"),
    Column("sector", "sector"),
    Column("momentum", "momentum_score", "num"),
    Column("relative strength", "relative_strength", "num"),
    Column("flow", "flow"),
]


def _rows(data: Any, key: str) -> list[Any]:
    if isinstance(data, list):
        return data
    if isinstance(data, dict) and isinstance(data.get(key), list):
        return data[key]
    return []


def regime(ctx: typer.Context) -> None:
    """The current market regime, confidence and risk level (Layer 1)."""
    current = state(ctx)
    data = current.client.call("GET", "/api/v1/layer1/market-regime", service="layer1-macro")
    output.show(data, current.as_json, lambda d: output.fields(d, title="Market regime"))


def health(ctx: typer.Context) -> None:
    """Readiness of every service of the fleet (public, no login needed)."""
    current = state(ctx)
    data = current.client.call("GET", "/api/v1/health", service="auth", authenticated=False)

    def render(d: dict[str, Any]) -> None:
        rows = [{"service": name, **value} for name, value in d.get("services", {}).items()]
        output.table(
            rows, [Column("service", "service"), Column("ready", "ready")], title=f"fleet: {d.get('status')}"
        )

    output.show(data, current.as_json, render)


@sectors.command("list")
def list_sectors(ctx: typer.Context) -> None:
    """Every sector with its current performance."""
    current = state(ctx)
    data = current.client.call("GET", "/api/v1/layer2/sectors", service="layer2-sector")
    output.show(data, current.as_json, lambda d: output.table(_rows(d, "data"), SECTOR_COLUMNS))


@sectors.command("show")
def show_sector(
    ctx: typer.Context, sector: Annotated[str, typer.Argument(help="taxonomy name, e.g. defi")]
) -> None:
    """One sector: top performers, market cap, volume, trends."""
    sector_id = sector.strip().lower()
    current = state(ctx)
    data = current.client.call("GET", f"/api/v1/layer2/sectors/{sector_id}", service="layer2-sector")
    output.show(data, current.as_json, output.fields)


@sectors.command("rotation")
def rotation(ctx: typer.Context) -> None:
    """Money flow between sectors and the recommended allocation."""
    current = state(ctx)
    data = current.client.call("GET", "/api/v1/layer2/rotation", service="layer2-sector")
    output.show(data, current.as_json, output.fields)


@assets.command("list")
def list_assets(
    ctx: typer.Context,
    sector: Annotated[str | None, typer.Option(help="only this sector, e.g. defi")] = None,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 50,
) -> None:
    """Assets by market-cap rank with their latest quote."""
    current = state(ctx)
    data = current.client.call(
        "GET", "/api/v1/market/assets", service="ingestion", params={"sector": sector, "limit": limit}
    )
    output.show(data, current.as_json, lambda d: output.table(_rows(d, "assets"), ASSET_COLUMNS))


@assets.command("show")
def show_asset(ctx: typer.Context, symbol: str) -> None:
    """One asset, its latest quote and the stored candles per interval."""
    current = state(ctx)
    data = current.client.call("GET", f"/api/v1/market/assets/{symbol.upper()}", service="ingestion")
    output.show(data, current.as_json, output.fields)
