"""Reads of a layer's latest result through Redis, with a TTL (seed: market regime 300 s).

The cache holds the REST view of the newest stored result; storing a new result deletes the
key, so a replica never serves a result older than the store's for longer than a request.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import redis.asyncio as aioredis

from cp_common.cache import JsonCache
from cp_layer_kit.results import ResultStore, StoredResult


def latest_view(result: StoredResult) -> dict[str, Any]:
    return {**result.view, "analysis_id": result.analysis_id, "cascade_run_id": result.cascade_run_id}


class LatestResults:
    def __init__(self, redis: aioredis.Redis, results: ResultStore, *, prefix: str, ttl_s: float) -> None:
        self._cache = JsonCache(redis, prefix)
        self._results = results
        self.ttl_s = ttl_s

    async def get(self) -> dict[str, Any] | None:
        """The latest result's view, or None when nothing is stored yet."""
        cached = await self._cache.get("latest")
        if cached is not None:
            return cached or None
        latest = await self._results.latest()
        view = latest_view(latest) if latest else None
        if view is not None:
            await self._cache.set("latest", view, self.ttl_s)
        return view

    async def cached(self, key: str, ttl_s: float, compute: Callable[[], Awaitable[Any]]) -> Any:
        """Another read derived from the latest result (e.g. sentiment, 180 s)."""
        return await self._cache.get_or_set(key, ttl_s, compute)

    async def invalidate(self, *keys: str) -> None:
        for key in ("latest", *keys):
            await self._cache.delete(key)
