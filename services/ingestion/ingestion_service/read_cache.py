"""Pre-serialised answers of hot candle reads (:class:`cp_common.http.read_cache.PreserialisedCache`).

Dashboards poll the same few queries (``/candles/BTC?interval=1d&limit=30``). The pipeline calls
:meth:`~cp_common.http.read_cache.PreserialisedCache.invalidate` after every commit of candles in
this process, so the replica running the feed never serves a candle set older than its database;
every entry also expires after 2 s, the bound on staleness for replicas that do not run the feed.
"""

from __future__ import annotations

from fastapi import Request

from cp_common.http.read_cache import PreserialisedCache

#: Where the service keeps its cache (``Runtime.extras``).
EXTRAS_KEY = "ingestion.candle_cache"

CandleReadCache = PreserialisedCache


async def candle_cache(request: Request) -> PreserialisedCache:
    """The FastAPI dependency (``async``: a plain ``def`` would run in the thread pool)."""
    cache: PreserialisedCache = request.app.state.runtime.extras[EXTRAS_KEY]
    return cache
