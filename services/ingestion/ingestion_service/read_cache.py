"""Pre-serialised answers of hot candle reads, dropped whenever candles are stored.

Dashboards poll the same few queries (``/candles/BTC?interval=1d&limit=30``). The service keeps
the serialised ``data`` of each such answer, keyed by the query, and wraps it in a fresh
envelope per request (:func:`cp_common.http.envelope.ok_preserialised`): no database round trip,
no model building, no serialisation.

- The pipeline calls :meth:`CandleReadCache.invalidate` after every commit of candles in this
  process: the replica running the feed never serves a candle set older than its database.
- Every entry also expires ``ttl_s`` after it was built (2 s): the bound on staleness for replicas
  that do not run the feed themselves.
- An answer computed while candles were being stored is not kept (``version``).
"""

from __future__ import annotations

import time
from collections.abc import Hashable

from fastapi import Request

DEFAULT_TTL_S = 2.0
DEFAULT_MAX_ENTRIES = 2048


class CandleReadCache:
    def __init__(self, *, ttl_s: float = DEFAULT_TTL_S, max_entries: int = DEFAULT_MAX_ENTRIES) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._entries: dict[Hashable, tuple[bytes, float]] = {}
        #: Changes with every invalidation; an answer built under another version is not kept.
        self.version = 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: Hashable) -> bytes | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if time.monotonic() >= entry[1]:
            del self._entries[key]
            return None
        return entry[0]

    def put(self, key: Hashable, data_json: bytes, version: int) -> None:
        if version != self.version:
            return
        if len(self._entries) >= self.max_entries:
            self._entries.clear()  # a flood of distinct queries: start over rather than scan
        self._entries[key] = (data_json, time.monotonic() + self.ttl_s)

    def invalidate(self) -> None:
        self._entries.clear()
        self.version += 1


#: Where the service keeps its cache (``Runtime.extras``).
EXTRAS_KEY = "ingestion.candle_cache"


async def candle_cache(request: Request) -> CandleReadCache:
    """The FastAPI dependency (``async``: a plain ``def`` would run in the thread pool)."""
    cache: CandleReadCache = request.app.state.runtime.extras[EXTRAS_KEY]
    return cache
