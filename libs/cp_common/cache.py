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
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import LockError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger(__name__)


def create_redis(url: str) -> aioredis.Redis:
    """A client that retries a command on a fresh connection when a pooled one died (after a
    Redis restart every pooled connection is dead; without retries each fails one request)."""
    return aioredis.from_url(
        url,
        decode_responses=False,
        health_check_interval=30,
        socket_timeout=5,
        retry=Retry(ExponentialBackoff(cap=0.25, base=0.02), retries=3),
        retry_on_error=[RedisConnectionError, RedisTimeoutError],
    )


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


#: INCR and, on a window's first call, its expiry: one atomic command instead of a MULTI/EXEC
#: pipeline of four (the limiter runs on every rate-limited request; redis-py's client-side cost
#: per command is most of its price).
_HIT_SCRIPT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then
    redis.call('EXPIRE', KEYS[1], ARGV[1])
end
return count
"""


class RateLimiter:
    """Fixed-window counter per key: at most ``limit`` calls per ``window_seconds``."""

    def __init__(self, client: aioredis.Redis, name: str, *, limit: int, window_seconds: int) -> None:
        self._hit = client.register_script(_HIT_SCRIPT)
        self._name = name
        self.limit = limit
        self.window = window_seconds

    def key(self, key: str, now: float | None = None) -> str:
        """The Redis key counting ``key``'s calls in the window of ``now``."""
        window_start = int(time.time() if now is None else now) // self.window
        return f"ratelimit:{self._name}:{key}:{window_start}"

    async def hit(self, key: str) -> tuple[bool, int]:
        """Count one call; returns (allowed, seconds until the window resets)."""
        now = time.time()
        count = int(await self._hit(keys=[self.key(key, now)], args=[self.window + 1]))
        retry_after = self.window - int(now) % self.window
        return count <= self.limit, retry_after
