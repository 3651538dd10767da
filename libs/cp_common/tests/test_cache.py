"""Redis helpers against the real embedded redis-server."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from cp_common.cache import JsonCache, RateLimiter, SingletonLock, create_redis


@pytest.fixture
async def redis_client(redis_url):
    client = create_redis(redis_url)
    yield client
    await client.aclose()


async def test_json_cache_roundtrip_and_ttl(redis_client):
    cache = JsonCache(redis_client, f"t{uuid.uuid4().hex[:6]}")
    await cache.set("regime", {"regime": "bull", "confidence": 0.8}, ttl_seconds=0.3)
    assert await cache.get("regime") == {"regime": "bull", "confidence": 0.8}
    await asyncio.sleep(0.5)
    assert await cache.get("regime") is None
    calls = []

    async def compute():
        calls.append(1)
        return [1, 2, 3]

    assert await cache.get_or_set("k", 5, compute) == [1, 2, 3]
    assert await cache.get_or_set("k", 5, compute) == [1, 2, 3]
    assert len(calls) == 1


async def test_singleton_lock_excludes_and_fails_over(redis_client):
    name = f"cascade-{uuid.uuid4().hex[:6]}"
    first = SingletonLock(redis_client, name, ttl=0.6)
    second = SingletonLock(redis_client, name, ttl=0.6)
    assert await first.acquire()
    assert not await second.acquire()
    async with first.held():
        await asyncio.sleep(1.0)  # longer than the TTL: renewal must keep it
        assert not await second.acquire()
    # released on exit: the other replica takes over
    assert await second.acquire()
    async with second.held():
        pass


async def test_singleton_lock_expires_when_owner_dies(redis_client):
    name = f"tracker-{uuid.uuid4().hex[:6]}"
    dead = SingletonLock(redis_client, name, ttl=0.4)
    assert await dead.acquire()  # acquired, never renewed: the owner "crashed"
    survivor = SingletonLock(redis_client, name, ttl=0.4)
    assert not await survivor.acquire()
    await asyncio.sleep(0.6)
    assert await survivor.acquire()


async def test_rate_limiter_fixed_window(redis_client):
    limiter = RateLimiter(redis_client, f"exec-{uuid.uuid4().hex[:6]}", limit=10, window_seconds=60)
    results = [await limiter.hit("user-1") for _ in range(12)]
    allowed = [ok for ok, _ in results]
    assert allowed == [True] * 10 + [False] * 2
    assert 0 < results[-1][1] <= 60
    # the window's counter expires with the window (plus a second), set on its first call
    assert 0 < await redis_client.ttl(limiter.key("user-1")) <= 61
    assert (await limiter.hit("user-2"))[0] is True
