"""Revocations and lockouts live in PostgreSQL; Redis only holds a copy that is rebuilt.

The session's Redis is shared, so instead of flushing it these tests delete exactly what a Redis
restart would lose: the denylist marker and entries, the login counters.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from cp_common.security.denylist import PREFIX, PRIMED_KEY

from .auth_testing import PASSWORD, RunningAuth, bearer, new_email, running_auth

LOCKOUT_THRESHOLD = 3


@pytest.fixture(scope="module")
async def durable(auth_settings) -> AsyncIterator[RunningAuth]:
    settings = auth_settings(auth_denylist_check_interval_s=0.2, auth_lockout_threshold=LOCKOUT_THRESHOLD)
    async with running_auth(settings) as running:
        yield running


async def _lose_redis_copy(auth: RunningAuth) -> None:
    redis = auth.components.revocations.denylist.client
    keys = [key async for key in redis.scan_iter(match=f"{PREFIX}*")]
    await redis.delete(PRIMED_KEY, *keys)


async def _me(auth: RunningAuth, token: str) -> tuple[int, str | None]:
    async with auth.client() as client:
        response = await client.get("/api/v1/auth/me", headers=bearer(token))
    return response.status_code, response.json().get("error")


async def test_a_logout_is_recorded_in_postgres_with_its_reason(durable: RunningAuth) -> None:
    user = await durable.register()
    tokens = await durable.login(user["email"])
    async with durable.client() as client:
        assert (
            await client.post("/api/v1/auth/logout", headers=bearer(tokens["access_token"]))
        ).status_code == 200
    async with durable.components.pool.acquire() as conn:
        rows = await conn.fetch("SELECT jti, reason FROM revoked_access_tokens WHERE reason = 'logout'")
    assert len(rows) >= 1
    assert await _me(durable, tokens["access_token"]) == (401, "token revoked")


async def test_a_lost_denylist_fails_closed_then_is_rebuilt_from_postgres(durable: RunningAuth) -> None:
    user = await durable.register()
    revoked = await durable.login(user["email"])
    live = await durable.login(user["email"])
    async with durable.client() as client:
        out = await client.post("/api/v1/auth/logout", headers=bearer(revoked["access_token"]))
    assert out.status_code == 200

    await _lose_redis_copy(durable)
    # Before the rebuild nothing is served (a possibly revoked token is never accepted) ...
    assert await _me(durable, live["access_token"]) == (503, "token revocation check unavailable")
    assert await _me(durable, revoked["access_token"]) == (503, "token revocation check unavailable")
    # ... and within the check interval the copy is back (rebuilt by this replica, or by another
    # auth replica on the same Redis): the revoked token is refused as revoked.
    denylist = durable.components.revocations.denylist
    for _ in range(200):
        if await denylist.primed_epoch() is not None:
            break
        await asyncio.sleep(0.05)
    assert await denylist.primed_epoch() is not None
    assert await _me(durable, revoked["access_token"]) == (401, "token revoked")
    assert (await _me(durable, live["access_token"]))[0] == 200


async def test_a_lock_holds_when_redis_forgets_the_counters(durable: RunningAuth) -> None:
    email = new_email("locked")
    await durable.register(email)
    async with durable.client("10.9.0.1") as client:
        for _ in range(LOCKOUT_THRESHOLD):
            wrong = await client.post(
                "/api/v1/auth/login", json={"email": email, "password": "Wrong-Pass-1!"}
            )
            assert wrong.status_code == 401
        redis = durable.components.revocations.denylist.client
        await redis.delete(*[key async for key in redis.scan_iter(match="auth:login:*")])
        refused = await client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert refused.status_code == 401 and refused.json()["error"] == "Invalid email or password"
    async with durable.components.pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM login_lockouts WHERE locked_until > now()") >= 1
