"""Coin -> sector metadata.

* ``dataset_coins.csv`` (``symbol,name,coingecko_id,primary_sector,coingecko_rank_2025_02,
  coingecko_sector_tags,<coverage columns>``): one hand-assigned primary sector per coin;
  this is the authoritative sector map. ``LUNA`` here is the classic coin; a ``LUNA2``
  row (Terra 2.0) is added so that remapped candles have an asset record.
* the CoinGecko categories export (``market_cap_rank,coingecko_id,symbol,name,categories,
  ...``): categories ``|``-joined; ``sector_from_categories`` maps them onto the same
  sector names for coins that are not in the hand-made map.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from cp_market.importers._common import csv_columns
from cp_market.report import ImportReport, RejectReason

FORMAT_ASSETS = "dataset_coins"
FORMAT_CATEGORIES = "coingecko_categories"
ASSET_COLUMNS = ["symbol", "name", "sector", "market_cap_rank", "coingecko_id", "sector_tags"]

SECTORS: tuple[str, ...] = (
    "layer1",
    "layer0_interop",
    "layer2",
    "defi",
    "oracle",
    "exchange_token",
    "meme",
    "gaming_nft_metaverse",
    "stablecoin",
    "privacy",
    "payments",
    "storage_depin",
    "data_ai",
    "iot",
    "web_advertising",
    "dao_governance",
    "infrastructure",
    "wrapped_asset",
    "commodity_backed",
)
"""The primary-sector vocabulary used across the project."""

CATEGORY_TO_SECTOR: tuple[tuple[str, str], ...] = (
    ("Tokenized Gold", "commodity_backed"),
    ("Tokenized Commodities", "commodity_backed"),
    ("Stablecoins", "stablecoin"),
    ("Wrapped-Tokens", "wrapped_asset"),
    ("Tokenized BTC", "wrapped_asset"),
    ("Meme", "meme"),
    ("Centralized Exchange (CEX) Token", "exchange_token"),
    ("Gaming (GameFi)", "gaming_nft_metaverse"),
    ("NFT", "gaming_nft_metaverse"),
    ("Metaverse", "gaming_nft_metaverse"),
    ("Privacy Coins", "privacy"),
    ("Oracle", "oracle"),
    ("Layer 2 (L2)", "layer2"),
    ("Rollup", "layer2"),
    ("Layer 0 (L0)", "layer0_interop"),
    ("Interoperability", "layer0_interop"),
    ("Artificial Intelligence (AI)", "data_ai"),
    ("Internet of Things (IOT)", "iot"),
    ("Storage", "storage_depin"),
    ("DePIN", "storage_depin"),
    ("Decentralized Finance (DeFi)", "defi"),
    ("Decentralized Exchange (DEX)", "defi"),
    ("Lending/Borrowing Protocols", "defi"),
    ("Governance", "dao_governance"),
    ("Payment Solutions", "payments"),
    ("Layer 1 (L1)", "layer1"),
    ("Smart Contract Platform", "layer1"),
    ("Infrastructure", "infrastructure"),
)
"""First matching CoinGecko category decides the primary sector (order matters)."""

EXTRA_ASSETS: tuple[dict[str, object], ...] = (
    {
        "symbol": "LUNA2",
        "name": "Terra 2.0 (LUNA after 2022-05-28)",
        "sector": "layer1",
        "coingecko_id": "terra-luna-2",
        "sector_tags": "",
    },
)


def sector_from_categories(categories: str | list[str] | None) -> str | None:
    """Primary sector for a CoinGecko category list (``|``-joined or a list), or None."""
    if not categories:
        return None
    cats = categories.split("|") if isinstance(categories, str) else list(categories)
    present = {c.strip() for c in cats}
    for category, sector in CATEGORY_TO_SECTOR:
        if category in present:
            return sector
    return None


def _header(head: list[str]) -> list[str]:
    return csv_columns(head[0]) if head else []


def sniff_assets(path: Path, head: list[str]) -> bool:
    return _header(head)[:4] == ["symbol", "name", "coingecko_id", "primary_sector"]


def sniff_categories(path: Path, head: list[str]) -> bool:
    return _header(head)[:5] == ["market_cap_rank", "coingecko_id", "symbol", "name", "categories"]


def import_categories(path: Path | str) -> tuple[pd.DataFrame, ImportReport]:
    """CoinGecko categories export -> frame with a derived ``sector`` column."""
    path = Path(path)
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    rep = ImportReport(files=[path.name], rows_read=len(df))
    df["symbol"] = df["symbol"].str.strip().str.upper()
    bad = df["symbol"] == ""
    for line in (df.index[bad] + 2).tolist():
        rep.reject(path.name, line, RejectReason.UNKNOWN_SYMBOL)
    df = df[~bad].copy()
    df["market_cap_rank"] = pd.to_numeric(df["market_cap_rank"], errors="coerce").astype("Int64")
    for c in ("market_cap_usd", "current_price_usd", "total_volume_usd", "circulating_supply", "max_supply"):
        if c in df.columns:
            df[c] = pd.to_numeric(df[c], errors="coerce")
    df["sector"] = df["categories"].map(sector_from_categories)
    rep.rows_accepted = len(df)
    return df.reset_index(drop=True), rep


def import_assets(
    path: Path | str, categories: pd.DataFrame | None = None
) -> tuple[pd.DataFrame, ImportReport]:
    """``dataset_coins.csv`` -> assets frame (``ASSET_COLUMNS``), plus the LUNA2 record.

    ``categories`` (from ``import_categories``) fills ranks for the extra records.
    """
    path = Path(path)
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    rep = ImportReport(files=[path.name], rows_read=len(df))
    out = pd.DataFrame(
        {
            "symbol": df["symbol"].str.strip().str.upper(),
            "name": df["name"].str.strip(),
            "sector": df["primary_sector"].str.strip(),
            "market_cap_rank": pd.to_numeric(df["coingecko_rank_2025_02"], errors="coerce").astype("Int64"),
            "coingecko_id": df["coingecko_id"].str.strip(),
            "sector_tags": df["coingecko_sector_tags"].where(
                ~df["coingecko_sector_tags"].str.startswith("(")
            ),
        }
    )
    out["sector_tags"] = out["sector_tags"].fillna("")
    bad = (out["symbol"] == "") | ~out["sector"].isin(SECTORS)
    for line, sym in zip((out.index[bad] + 2).tolist(), out.loc[bad, "symbol"], strict=True):
        rep.reject(
            path.name, line, RejectReason.UNKNOWN_SYMBOL, symbol=sym, detail="no symbol or unknown sector"
        )
    out = out[~bad]
    extra = pd.DataFrame(list(EXTRA_ASSETS))
    extra = extra[~extra["symbol"].isin(out["symbol"])]
    if categories is not None and not extra.empty:
        ranks = categories.drop_duplicates("coingecko_id").set_index("coingecko_id")["market_cap_rank"]
        extra["market_cap_rank"] = extra["coingecko_id"].map(ranks)
    else:
        extra["market_cap_rank"] = pd.NA
    extra["market_cap_rank"] = extra["market_cap_rank"].astype("Int64")
    out = pd.concat([out, extra[ASSET_COLUMNS]], ignore_index=True)
    rep.rows_accepted = len(out) - len(extra)
    return out.sort_values("symbol").reset_index(drop=True), rep
