"""alternative.me Crypto Fear & Greed API: ``GET {base}/fng/?limit=N&format=json``.

Answer: ``{"name": ..., "data": [{"value": "40", "value_classification": "Fear",
"timestamp": "1551157200", "time_until_update": "..."}], "metadata": {"error": null}}``
(newest first). A non-null ``metadata.error`` raises ``SourceError``.
"""

from __future__ import annotations

import pandas as pd

from cp_market.sources.http import JsonHttpClient, RetryPolicy, SourceError

DEFAULT_URL = "https://api.alternative.me"


class FearGreedClient:
    def __init__(self, *, base_url: str = DEFAULT_URL, policy: RetryPolicy | None = None) -> None:
        self.http = JsonHttpClient(base_url, policy=policy)

    async def aclose(self) -> None:
        await self.http.aclose()

    async def fetch(self, limit: int = 1) -> pd.DataFrame:
        """The latest ``limit`` days (0 = full history) as date, value, label (ascending)."""
        payload = await self.http.get_json("/fng/", {"limit": limit, "format": "json"})
        error = (payload.get("metadata") or {}).get("error")
        if error:
            raise SourceError(f"alternative.me: {error}", body=payload)
        df = pd.DataFrame(payload.get("data") or [])
        if df.empty:
            return pd.DataFrame(columns=["date", "value", "label"])
        out = pd.DataFrame(
            {
                "date": pd.to_datetime(pd.to_numeric(df["timestamp"]), unit="s", utc=True).dt.floor("D"),
                "value": pd.to_numeric(df["value"], errors="coerce"),
                "label": df["value_classification"],
            }
        )
        out = out[(out["value"] >= 0) & (out["value"] <= 100)]
        return out.sort_values("date").drop_duplicates("date", keep="last").reset_index(drop=True)
