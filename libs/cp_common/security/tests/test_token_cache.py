"""The verified-token cache: revocations pushed over Redis pub/sub, a hard bound on the delay,
and no caching across a lost subscription."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
import redis.asyncio as aioredis

from cp_common.cache import create_redis
from cp_common.errors import Unauthorized
from cp_common.security import JwtVerifier, Principal, Role
from cp_common.security.denylist import PREFIX, Revocation, TokenDenylist
from cp_common.security.jwt_verifier import MSG_REVOKED
from cp_common.security.token_cache import RevocationListener, VerifiedTokenCache

from .conftest import AUDIENCE, ISSUER, JwksServer, TokenFactory

DB = 8


def _principal(jti: str = "j1", expires_in: float = 300) -> Principal:
    now = datetime.now(UTC)
    return Principal("u1", Role.CASUAL, "a@example.com", jti, now, now + timedelta(seconds=expires_in))


def test_the_cache_serves_nothing_until_enabled_and_nothing_after_a_flush() -> None:
    cache = VerifiedTokenCache(max_age_s=60)
    cache.put("t", _principal(), cache.generation)
    assert cache.get("t") is None and len(cache) == 0
    cache.enable()
    principal = _principal()
    cache.put("t", principal, cache.generation)
    assert cache.get("t") == principal
    cache.flush(disable=True)
    assert cache.get("t") is None and not cache.enabled


def test_a_check_begun_before_a_flush_is_not_cached() -> None:
    cache = VerifiedTokenCache(max_age_s=60)
    cache.enable()
    generation = cache.generation
    cache.flush(disable=False)
    cache.put("t", _principal(), generation)
    assert cache.get("t") is None


def test_entries_end_at_exp_at_max_age_and_on_a_pushed_revocation() -> None:
    cache = VerifiedTokenCache(max_age_s=0.05)
    cache.enable()
    cache.put("short", _principal("a", expires_in=0.01), cache.generation)
    cache.put("aged", _principal("b"), cache.generation)
    cache.put("revoked", _principal("c"), cache.generation)
    assert cache.get("revoked") is not None
    cache.revoke("c", time.time() + 300)
    assert cache.get("revoked") is None
    cache.put("revoked", _principal("c"), cache.generation)  # a late full check cannot re-admit it
    assert cache.get("revoked") is None
    time.sleep(0.06)
    assert cache.get("short") is None and cache.get("aged") is None


def test_the_cache_stays_bounded() -> None:
    cache = VerifiedTokenCache(max_age_s=60, max_entries=10)
    cache.enable()
    for i in range(25):
        cache.put(f"t{i}", _principal(f"j{i}"), cache.generation)
    assert len(cache) <= 10 and cache.get("t24") is not None


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    client = create_redis(f"{redis_url.rsplit('/', 1)[0]}/{DB}")
    await client.flushdb()
    yield client
    await client.flushdb()
    await client.aclose()


@pytest.fixture
async def cached(
    redis: aioredis.Redis, jwks_server: JwksServer
) -> AsyncIterator[tuple[JwtVerifier, RevocationListener]]:
    denylist = TokenDenylist(redis)
    await denylist.prime([])
    cache = VerifiedTokenCache(max_age_s=3.0)
    listener = RevocationListener(redis, cache, ping_interval_s=0.2, retry_delay_s=0.1)
    verifier = JwtVerifier(
        jwks_server.url, issuer=ISSUER, audience=AUDIENCE, is_revoked=denylist.is_revoked, cache=cache
    )
    listener.start()
    await asyncio.wait_for(listener.subscribed.wait(), 5)
    yield verifier, listener
    await listener.stop()
    await verifier.aclose()


async def _refused_within(verifier: JwtVerifier, token: str, seconds: float) -> float:
    """Seconds until ``token`` is refused as revoked (fails the test past ``seconds``)."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        try:
            await verifier.verify(token)
        except Unauthorized as refused:
            assert refused.message == MSG_REVOKED
            return time.monotonic() - started
        await asyncio.sleep(0.005)
    raise AssertionError(f"still accepted after {seconds} s")


async def test_a_pushed_revocation_is_refused_within_milliseconds(
    cached: tuple[JwtVerifier, RevocationListener], redis: aioredis.Redis, make_token: TokenFactory
) -> None:
    verifier, listener = cached
    token = make_token(jti="pushed")
    await verifier.verify(token)
    assert listener.cache.get(token) is not None  # served from the cache from now on
    await TokenDenylist(redis).revoke_many([Revocation("pushed", time.time() + 300)])
    delay = await _refused_within(verifier, token, 0.5)
    assert delay < 0.5


async def test_a_lost_push_is_still_refused_within_the_cache_age(
    cached: tuple[JwtVerifier, RevocationListener], redis: aioredis.Redis, make_token: TokenFactory
) -> None:
    verifier, listener = cached
    token = make_token(jti="silent")
    await verifier.verify(token)
    await redis.set(f"{PREFIX}silent", b"1", ex=300)  # denylisted without the announcement
    delay = await _refused_within(verifier, token, listener.cache.max_age_s + 0.5)
    assert delay <= listener.cache.max_age_s + 0.1


async def test_a_broken_subscription_flushes_the_cache_until_resubscribed(
    cached: tuple[JwtVerifier, RevocationListener], redis: aioredis.Redis, make_token: TokenFactory
) -> None:
    verifier, listener = cached
    token = make_token(jti="gap")
    await verifier.verify(token)
    assert listener.cache.get(token) is not None
    await redis.client_kill_filter(_type="pubsub")
    # Killed and reconnected (by redis-py or by the listener): the cache starts empty.
    for _ in range(100):
        if listener.cache.get(token) is None:
            break
        await asyncio.sleep(0.01)
    assert listener.cache.get(token) is None
    for _ in range(100):
        if listener.cache.enabled and listener.subscribed.is_set():
            break
        await asyncio.sleep(0.05)
    assert listener.cache.enabled
    # ... and pushed revocations arrive again.
    await verifier.verify(token)
    assert listener.cache.get(token) is not None
    await TokenDenylist(redis).revoke_many([Revocation("gap", time.time() + 300)])
    assert await _refused_within(verifier, token, 0.5) < 0.5


async def test_concurrent_checks_of_one_token_share_one_denylist_read(
    cached: tuple[JwtVerifier, RevocationListener], redis: aioredis.Redis, make_token: TokenFactory
) -> None:
    verifier, listener = cached
    reads: list[str] = []
    is_revoked = verifier.is_revoked
    assert is_revoked is not None

    async def counted(jti: str) -> bool:
        reads.append(jti)
        await asyncio.sleep(0.05)  # a slow denylist: every request arrives while it is read
        return await is_revoked(jti)

    verifier.is_revoked = counted
    token = make_token(jti="shared")
    principals = await asyncio.gather(*(verifier.verify(token) for _ in range(100)))
    assert reads == ["shared"] and {p.jti for p in principals} == {"shared"}
    # a revocation pushed while a shared check runs refuses every request that waited on it
    listener.cache.flush(disable=False)
    waiting = [asyncio.create_task(verifier.verify(token)) for _ in range(10)]
    await asyncio.sleep(0.01)
    listener.cache.revoke("shared", time.time() + 300)
    results = await asyncio.gather(*waiting, return_exceptions=True)
    assert len(reads) == 2
    assert all(isinstance(r, Unauthorized) and r.message == MSG_REVOKED for r in results)
