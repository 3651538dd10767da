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
        ``build`` returns the JSON of ``data``; an exception from it is not cached."""
        cached = self.get(key)
        if cached is not None:
            return ok_preserialised(cached)
        version = self.version
        data_json = await build()
        self.put(key, data_json, version)
        return ok_preserialised(data_json)
