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


async def test_more_concurrent_commands_than_connections_wait_for_one(redis_url):
    client = create_redis(redis_url, max_connections=4)
    try:
        key = f"pool-{uuid.uuid4().hex[:6]}"
        counts = await asyncio.gather(*(client.incr(key) for _ in range(200)))
        assert sorted(counts) == list(range(1, 201))
    finally:
        await client.aclose()


async def test_rate_limiter_replicas_never_allow_more_than_the_limit_together(redis_client):
    # three replicas (three limiters on one Redis) serving one caller at a large limit: each
    # reserves calls in growing batches, and together they allow exactly the limit at most
    name = f"replicas-{uuid.uuid4().hex[:6]}"
    replicas = [RateLimiter(redis_client, name, limit=1000, window_seconds=3600) for _ in range(3)]
    assert replicas[0].batch_max == 50
    commands_before = (await redis_client.info("stats"))["total_commands_processed"]
    allowed = 0
    for i in range(1500):
        ok, _ = await replicas[i % 3].hit("poller")
        allowed += ok
    assert 1000 - 3 * 49 <= allowed <= 1000
    # far fewer Redis commands than calls: the reservations (and no refused call) reached it
    commands = (await redis_client.info("stats"))["total_commands_processed"] - commands_before
    assert commands < 150
    # once refused, a replica refuses without asking Redis (the counter does not move)
    before = int(await redis_client.get(replicas[0].key("poller")))
    assert (await replicas[0].hit("poller"))[0] is False
    assert int(await redis_client.get(replicas[0].key("poller"))) == before


async def test_rate_limiter_concurrent_calls_stay_within_the_limit(redis_client):
    name = f"concurrent-{uuid.uuid4().hex[:6]}"
    replicas = [RateLimiter(redis_client, name, limit=500, window_seconds=3600) for _ in range(2)]
    results = await asyncio.gather(*(replicas[i % 2].hit("burst") for i in range(1200)))
    allowed = sum(ok for ok, _ in results)
    assert 500 - 2 * (replicas[0].batch_max - 1) <= allowed <= 500


async def test_rate_limiter_counts_every_call_of_a_small_limit_across_replicas(redis_client):
    name = f"small-{uuid.uuid4().hex[:6]}"
    replicas = [RateLimiter(redis_client, name, limit=10, window_seconds=3600) for _ in range(2)]
    assert replicas[0].batch_max == 1
    results = [(await replicas[i % 2].hit("user"))[0] for i in range(12)]
    assert results == [True] * 10 + [False] * 2


async def test_rate_limiter_fixed_window(redis_client):
    limiter = RateLimiter(redis_client, f"exec-{uuid.uuid4().hex[:6]}", limit=10, window_seconds=60)
    results = [await limiter.hit("user-1") for _ in range(12)]
    allowed = [ok for ok, _ in results]
    assert allowed == [True] * 10 + [False] * 2
    assert 0 < results[-1][1] <= 60
    # the window's counter expires with the window (plus a second), set on its first call
    assert 0 < await redis_client.ttl(limiter.key("user-1")) <= 61
    assert (await limiter.hit("user-2"))[0] is True
