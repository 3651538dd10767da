"""Redis helpers: client factory, JSON cache with TTL, a singleton lock and a rate limiter.

The lock is redis-py's own (token-checked release, Lua-scripted extend); :class:`SingletonLock`
only adds the loop that keeps renewing it while the owner works, so that singleton work
(the scheduled cascade, outcome tracking) runs on exactly one replica and moves to another
replica within ``ttl`` seconds if the owner dies.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import LockError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger(__name__)


#: Connections per process. More requests than this waiting on Redis at once queue for a free
#: connection (for at most ``POOL_WAIT_S``) instead of failing: redis-py's default pool raises
#: "Too many connections" at once, which answered 503 to a quarter of the requests at 256
#: concurrent connections in the HTTP benchmark.
MAX_CONNECTIONS = 100
POOL_WAIT_S = 5.0


def create_redis(url: str, *, max_connections: int = MAX_CONNECTIONS) -> aioredis.Redis:
    """A client that retries a command on a fresh connection when a pooled one died (after a
    Redis restart every pooled connection is dead; without retries each fails one request)."""
    pool = aioredis.BlockingConnectionPool.from_url(
        url,
        max_connections=max_connections,
        timeout=POOL_WAIT_S,
        decode_responses=False,
        health_check_interval=30,
        socket_timeout=5,
        retry=Retry(ExponentialBackoff(cap=0.25, base=0.02), retries=3),
        retry_on_error=[RedisConnectionError, RedisTimeoutError],
    )
    return aioredis.Redis(connection_pool=pool)


def redis_ready_check(client: aioredis.Redis) -> Callable[[], Awaitable[None]]:
    async def check() -> None:
        if not await client.ping():
            raise ConnectionError("redis did not answer PING")

    return check


class JsonCache:
    """JSON values under a key prefix, each with a TTL."""

    def __init__(self, client: aioredis.Redis, prefix: str) -> None:
        self._client = client
        self._prefix = prefix

    def _key(self, key: str) -> str:
        return f"{self._prefix}:{key}"

    async def get(self, key: str) -> Any | None:
        raw = await self._client.get(self._key(key))
        return None if raw is None else json.loads(raw)

    async def set(self, key: str, value: Any, ttl_seconds: float) -> None:
        await self._client.set(self._key(key), json.dumps(value, default=str), px=int(ttl_seconds * 1000))

    async def delete(self, key: str) -> None:
        await self._client.delete(self._key(key))

    async def get_or_set(self, key: str, ttl_seconds: float, compute: Callable[[], Awaitable[Any]]) -> Any:
        cached = await self.get(key)
        if cached is not None:
            return cached
        value = await compute()
        await self.set(key, value, ttl_seconds)
        return value


class SingletonLock:
    """Hold a named lock for as long as the ``held()`` block runs, renewing it in the background."""

    def __init__(self, client: aioredis.Redis, name: str, *, ttl: float = 30.0) -> None:
        self._lock = client.lock(f"lock:{name}", timeout=ttl, blocking=False, thread_local=False)
        self._ttl = ttl
        self.lost = asyncio.Event()

    async def acquire(self) -> bool:
        return bool(await self._lock.acquire())

    @contextlib.asynccontextmanager
    async def held(self) -> AsyncIterator[None]:
        """Use after a successful :meth:`acquire`; sets :attr:`lost` if renewal fails."""
        renew = asyncio.create_task(self._renew())
        try:
            yield
        finally:
            renew.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renew
            with contextlib.suppress(LockError):
                await self._lock.release()

    async def _renew(self) -> None:
        while True:
            await asyncio.sleep(self._ttl / 3)
            try:
                await self._lock.reacquire()
            except LockError:
                log.warning("singleton lock lost", extra={"lock": self._lock.name})
                self.lost.set()
                return


#: Reserve ARGV[2] calls of the window (INCRBY) and, on its first reservation, set its expiry:
#: one atomic command.
_RESERVE_SCRIPT = """
local count = redis.call('INCRBY', KEYS[1], ARGV[2])
if count == tonumber(ARGV[2]) then
    redis.call('EXPIRE', KEYS[1], ARGV[1])
end
return count
"""
#: Callers whose local reservations are remembered at most (the oldest windows go first).
_MAX_LOCAL_KEYS = 50_000


@dataclass
class _Reservation:
    window: int
    remaining: int = 0  # calls reserved in Redis and not served yet
    next_batch: int = 1
    refused: bool = False  # the window's limit is reached: refuse without asking Redis


class RateLimiter:
    """Fixed-window counter per key: at most ``limit`` calls per ``window_seconds``, across every
    replica sharing the Redis.

    A caller's calls are counted in Redis in reservations: the first call of a window reserves
    one, and each further reservation in the same window twice as many as the last, up to
    ``batch_max``; the process serves a reservation's calls without asking Redis again. A
    reservation ``(c - n, c]`` of the window's counter only serves the numbers up to ``limit``,
    so the replicas together never allow more than ``limit`` calls. The price: calls reserved by
    one replica and not used there are lost to the caller, who may be refused up to
    ``batch_max - 1`` calls per replica before the limit. ``batch_max`` is 1 (exact counting)
    for limits under 40, so the seeds' small limits (execute 10 / 60 s) count every call; a
    caller polling a large limit costs a Redis round trip every ``batch_max`` calls instead of
    every call (the limiter was the largest cost of a cached read in the profile). Once refused,
    a caller is refused without a round trip until the window ends.
    """

    def __init__(
        self,
        client: aioredis.Redis,
        name: str,
        *,
        limit: int,
        window_seconds: int,
        batch_max: int | None = None,
    ) -> None:
        self._reserve = client.register_script(_RESERVE_SCRIPT)
        self._name = name
        self.limit = limit
        self.window = window_seconds
        self.batch_max = max(1, min(64, limit // 20)) if batch_max is None else max(1, batch_max)
        self._local: dict[str, _Reservation] = {}

    def key(self, key: str, now: float | None = None) -> str:
        """The Redis key counting ``key``'s calls in the window of ``now``."""
        window_start = int(time.time() if now is None else now) // self.window
        return f"ratelimit:{self._name}:{key}:{window_start}"

    async def hit(self, key: str) -> tuple[bool, int]:
        """Count one call; returns (allowed, seconds until the window resets)."""
        now = time.time()
        window = int(now) // self.window
        retry_after = self.window - int(now) % self.window
        local = self._local.get(key)
        if local is None or local.window != window:
            local = _Reservation(window)
        if local.refused:
            return False, retry_after
        if local.remaining > 0:
            local.remaining -= 1
            return True, retry_after
        batch = local.next_batch
        count = int(await self._reserve(keys=[self.key(key, now)], args=[self.window + 1, batch]))
        usable = max(0, min(batch, self.limit - (count - batch)))
        # concurrent calls of this caller may have reserved meanwhile: reservations add up
        current = self._local.get(key)
        if current is not None and current.window == window:
            local = current
        local.remaining += max(0, usable - 1)
        local.next_batch = min(2 * batch, self.batch_max)
        local.refused = local.refused or usable == 0
        self._remember(key, local)
        return usable > 0, retry_after

    def take_reserved(self, key: str) -> bool:
        """Count one call from this process's reservation, if one has calls left in the current
        window; ``False`` (nothing counted): only :meth:`hit` can decide (Redis, or a refusal)."""
        local = self._local.get(key)
        if (
            local is None
            or local.refused
            or local.remaining <= 0
            or local.window != int(time.time()) // self.window
        ):
            return False
        local.remaining -= 1
        return True

    def _remember(self, key: str, local: _Reservation) -> None:
        if key not in self._local and len(self._local) >= _MAX_LOCAL_KEYS:
            current = local.window
            self._local = {k: r for k, r in self._local.items() if r.window == current}
            while len(self._local) >= _MAX_LOCAL_KEYS:
                del self._local[next(iter(self._local))]
        self._local[key] = local
