"""Pre-serialised answers of hot reads, kept per query and dropped by the writes that change them.

Dashboards poll the same few queries (candles of BTC, the latest regime, the active signals). A
service keeps the serialised ``data`` of each such answer, keyed by the query, and wraps it in
a fresh envelope per request (:func:`cp_common.http.envelope.ok_preserialised`): no database
round trip, no model building, no serialisation.

- The process's writers call :meth:`PreserialisedCache.invalidate` after every write that changes
  an answer: the replica that wrote never serves an answer older than its database.
- Every entry also expires ``ttl_s`` after it was built: the bound on staleness for replicas that
  did not write themselves (and for writes whose commit the writer cannot observe).
- An answer computed while an invalidation happened is not kept (:attr:`version`).
- Concurrent misses of one key share one build (:meth:`PreserialisedCache.answer`): when an entry
  expires under load, every request in flight would otherwise run the database read at once
  (at 256 connections, a burst that queued on the pool for up to seconds). A request that
  arrives after an invalidation does not join a build begun before it.

    cached = cache.get(key)
    if cached is not None:
        return ok_preserialised(cached)
    version = cache.version
    data_json = ...  # read and serialise
    cache.put(key, data_json, version)
    return ok_preserialised(data_json)

(:meth:`PreserialisedCache.answer` does exactly that.)
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable

from fastapi.responses import Response

from cp_common.http.envelope import ok_preserialised

DEFAULT_TTL_S = 2.0
DEFAULT_MAX_ENTRIES = 2048


class PreserialisedCache:
    def __init__(self, *, ttl_s: float = DEFAULT_TTL_S, max_entries: int = DEFAULT_MAX_ENTRIES) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._entries: dict[Hashable, tuple[bytes, float]] = {}
        self._building: dict[tuple[Hashable, int], asyncio.Task[bytes]] = {}
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
        if version != self.version or self.ttl_s <= 0:
            return
        if len(self._entries) >= self.max_entries:
            self._entries.clear()  # a flood of distinct queries: start over rather than scan
        self._entries[key] = (data_json, time.monotonic() + self.ttl_s)

    def invalidate(self) -> None:
        self._entries.clear()
        self.version += 1

    async def answer(self, key: Hashable, build: Callable[[], Awaitable[bytes]]) -> Response:
        """The success envelope around the cached ``data`` of ``key``, built (and kept) on a miss.
        ``build`` returns the JSON of ``data``; an exception from it is not cached (every request
        that shared the build gets it)."""
        cached = self.get(key)
        if cached is not None:
            return ok_preserialised(cached)
        return ok_preserialised(await self.built(key, build))

    async def built(self, key: Hashable, build: Callable[[], Awaitable[bytes]]) -> bytes:
        """The JSON of ``key``'s ``data`` from one build shared by every concurrent miss."""
        version = self.version
        task = self._building.get((key, version))
        if task is None:
            task = asyncio.ensure_future(self._build(key, version, build))
            task.add_done_callback(_retrieved)
            self._building[(key, version)] = task
        # shielded: a request that goes away does not cancel the build the others wait for
        return await asyncio.shield(task)

    async def _build(self, key: Hashable, version: int, build: Callable[[], Awaitable[bytes]]) -> bytes:
        try:
            data_json = await build()
            self.put(key, data_json, version)
            return data_json
        finally:
            del self._building[(key, version)]


def _retrieved(task: asyncio.Task[bytes]) -> None:
    """Marks a build's exception as seen: every request that waited on it may have gone away."""
    if not task.cancelled():
        task.exception()
