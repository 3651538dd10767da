"""CoinGecko REST: ``/coins/markets``, ``/global`` and ``/coins/categories``.

Base URL configurable (public ``https://api.coingecko.com/api/v3`` or the Pro URL); an API
key is sent as ``x-cg-demo-api-key`` / ``x-cg-pro-api-key``. 429 answers (body
``{"status": {"error_code": 429, "error_message": ...}}``) are retried after Retry-After.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from cp_market.importers.metadata import sector_from_categories
from cp_market.sources.http import JsonHttpClient, RetryPolicy

DEFAULT_URL = "https://api.coingecko.com/api/v3"
STABLECOIN_KEYS = ("usdt", "usdc", "dai", "busd", "tusd", "fdusd", "usde")


class CoinGeckoClient:
    def __init__(
        self,
        *,
        base_url: str = DEFAULT_URL,
        api_key: str | None = None,
        pro: bool = False,
        policy: RetryPolicy | None = None,
    ) -> None:
        headers = {}
        if api_key:
            headers["x-cg-pro-api-key" if pro else "x-cg-demo-api-key"] = api_key
        self.http = JsonHttpClient(base_url, policy=policy, headers=headers)

    async def aclose(self) -> None:
        await self.http.aclose()

    async def coins_markets(
        self, *, vs_currency: str = "usd", per_page: int = 250, page: int = 1, category: str | None = None
    ) -> pd.DataFrame:
        """One page of ``/coins/markets``: symbol (upper), name, price, market cap, rank, volume."""
        params: dict[str, Any] = {
            "vs_currency": vs_currency,
            "order": "market_cap_desc",
            "per_page": per_page,
            "page": page,
        }
        if category:
            params["category"] = category
        rows = await self.http.get_json("/coins/markets", params)
        df = pd.DataFrame(rows)
        if df.empty:
            return pd.DataFrame(
                columns=[
                    "coingecko_id",
                    "symbol",
                    "name",
                    "price",
                    "market_cap",
                    "market_cap_rank",
                    "volume_24h",
                ]
            )
        out = pd.DataFrame(
            {
                "coingecko_id": df["id"],
                "symbol": df["symbol"].str.upper(),
                "name": df["name"],
                "price": pd.to_numeric(df.get("current_price"), errors="coerce"),
                "market_cap": pd.to_numeric(df.get("market_cap"), errors="coerce"),
                "market_cap_rank": pd.to_numeric(df.get("market_cap_rank"), errors="coerce").astype("Int64"),
                "volume_24h": pd.to_numeric(df.get("total_volume"), errors="coerce"),
            }
        )
        if "last_updated" in df.columns:
            out["last_updated"] = pd.to_datetime(df["last_updated"], utc=True, errors="coerce")
        return out

    async def global_snapshot(self) -> dict[str, Any]:
        """``/global`` -> one snapshot row (the snapshot frame's keys, plus ``eth_dominance`` and
        ``total_volume_24h`` in USD, NaN when absent)."""
        payload = await self.http.get_json("/global")
        data = payload.get("data", payload)
        total = float(data["total_market_cap"]["usd"])
        pct = {k.lower(): float(v) for k, v in data.get("market_cap_percentage", {}).items()}
        updated = data.get("updated_at")
        return {
            "date": pd.Timestamp(int(updated), unit="s", tz="UTC") if updated else pd.Timestamp.now(tz="UTC"),
            "total_market_cap": total,
            "btc_dominance": pct.get("btc", float("nan")),
            "usdt_market_cap": total * pct["usdt"] / 100 if "usdt" in pct else float("nan"),
            "stablecoin_dominance": sum(pct.get(k, 0.0) for k in STABLECOIN_KEYS),
            "eth_dominance": pct.get("eth", float("nan")),
            "total_volume_24h": float((data.get("total_volume") or {}).get("usd", float("nan"))),
        }

    async def categories(self) -> pd.DataFrame:
        """``/coins/categories`` with our sector for each category name (None if not a sector)."""
        rows = await self.http.get_json("/coins/categories")
        df = pd.DataFrame(rows)
        if df.empty:
            return pd.DataFrame(
                columns=["id", "name", "market_cap", "market_cap_change_24h", "volume_24h", "sector"]
            )
        out = pd.DataFrame(
            {
                "id": df["id"],
                "name": df["name"],
                "market_cap": pd.to_numeric(df.get("market_cap"), errors="coerce"),
                "market_cap_change_24h": pd.to_numeric(df.get("market_cap_change_24h"), errors="coerce"),
                "volume_24h": pd.to_numeric(df.get("volume_24h"), errors="coerce"),
            }
        )
        out["sector"] = out["name"].map(sector_from_categories)
        return out
