"""API keys on the running auth service (in-process, real PostgreSQL and Redis): created and
shown once, stored hashed, exchanged for a short-lived scoped access token, never above the
owner's role, revoked durably (also across a lost Redis denylist), stopped by deactivation,
limited per key."""

from __future__ import annotations

import asyncio
import hashlib
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest

from cp_common.security.denylist import PREFIX, PRIMED_KEY

from .auth_testing import RunningAuth, bearer

KEYS = "/api/v1/auth/api-keys"


async def _create(client: httpx.AsyncClient, token: str, **body: Any) -> httpx.Response:
    return await client.post(KEYS, json={"name": "bot", **body}, headers=bearer(token))


async def _exchange(client: httpx.AsyncClient, key: str) -> httpx.Response:
    return await client.post(f"{KEYS}/token", json={"api_key": key})


async def _key_token(auth: RunningAuth, access: str, **body: Any) -> tuple[str, str, dict[str, Any]]:
    """A new key of the user with ``access`` (its id, secret and first exchange answer)."""
    async with auth.client() as client:
        created = await _create(client, access, **body)
        assert created.status_code == 201, created.text
        secret = created.json()["data"]["api_key"]
        exchanged = await _exchange(client, secret)
        assert exchanged.status_code == 200, exchanged.text
    return created.json()["data"]["key"]["id"], secret, exchanged.json()["data"]


async def _me(auth: RunningAuth, token: str) -> int:
    async with auth.client() as client:
        return (await client.get("/api/v1/auth/me", headers=bearer(token))).status_code


async def test_a_key_is_shown_once_stored_hashed_and_exchanged_for_a_scoped_token(auth: RunningAuth) -> None:
    user = await auth.register()
    login = await auth.login(user["email"])
    key_id, secret, answer = await _key_token(auth, login["access_token"], name="my bot")
    assert secret.startswith("cpk_") and len(secret) >= 40
    claims = jwt.decode(answer["access_token"], options={"verify_signature": False})
    assert claims["scope"] == answer["scope"] == "read" and claims["sub"] == user["id"]
    assert claims["role"] == answer["role"] == "casual"
    assert 0 < answer["expires_in"] <= auth.settings.auth_access_token_ttl_s and "refresh_token" not in answer
    assert await _me(auth, answer["access_token"]) == 200
    async with auth.client() as client:
        listed = (await client.get(KEYS, headers=bearer(login["access_token"]))).json()["data"]["items"]
    assert [k["id"] for k in listed] == [key_id] and listed[0]["name"] == "my bot"
    assert secret not in str(listed) and secret.startswith(listed[0]["prefix"])
    assert listed[0]["last_used_at"] is not None
    async with auth.components.pool.acquire() as conn:
        row = await conn.fetchrow("SELECT * FROM api_keys WHERE id = $1", uuid.UUID(key_id))
    assert bytes(row["secret_hash"]) == hashlib.sha256(secret.encode()).digest()
    assert secret not in str(dict(row))


async def test_bad_input_and_the_role_ceiling(auth: RunningAuth) -> None:
    user = await auth.register()
    token = (await auth.login(user["email"]))["access_token"]
    past = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    async with auth.client() as client:
        for body, status in (
            ({"name": ""}, 422),
            ({"scope": "write"}, 422),
            ({"surprise": 1}, 422),
            ({"max_role": "admin"}, 403),
            ({"expires_at": past}, 400),
        ):
            answer = await _create(client, token, **body)
            assert answer.status_code == status, (body, answer.text)
            assert answer.json()["success"] is False
        assert (await client.post(KEYS, json={"name": "x"})).status_code == 401
        for key in ("", "cpk_" + "x" * 200, "cpk_unknown"):
            refused = await _exchange(client, key)
            assert refused.status_code in (401, 422) and refused.json()["success"] is False
        gone = await client.delete(f"{KEYS}/{uuid.uuid4()}", headers=bearer(token))
        assert gone.status_code == 404
        assert (await client.delete(f"{KEYS}/not-a-uuid", headers=bearer(token))).status_code == 404


async def test_a_key_never_exceeds_its_owner(auth: RunningAuth) -> None:
    _, login = await auth.user_with_role("admin")
    _, _, as_professional = await _key_token(auth, login["access_token"], max_role="professional")
    assert as_professional["role"] == "professional"
    key_id, secret, as_admin = await _key_token(auth, login["access_token"])
    assert as_admin["role"] == "admin"
    # the owner is demoted: the key's next token has the owner's new role
    async with auth.components.pool.acquire() as conn:
        owner = await conn.fetchval("SELECT user_id FROM api_keys WHERE id = $1", uuid.UUID(key_id))
        await conn.execute("UPDATE users SET role = 'casual' WHERE id = $1", owner)
    async with auth.client() as client:
        assert (await _exchange(client, secret)).json()["data"]["role"] == "casual"


async def test_a_key_token_cannot_manage_keys(auth: RunningAuth) -> None:
    user = await auth.register()
    login = await auth.login(user["email"])
    _, _, answer = await _key_token(auth, login["access_token"], scope="read execute")
    async with auth.client() as client:
        stronger = await _create(client, answer["access_token"], scope="read execute")
        listing = await client.get(KEYS, headers=bearer(answer["access_token"]))
    assert stronger.status_code == 403 and listing.status_code == 403


async def test_revoking_stops_the_key_and_its_tokens_even_after_redis_loses_the_denylist(
    auth: RunningAuth,
) -> None:
    user = await auth.register()
    login = await auth.login(user["email"])
    key_id, secret, answer = await _key_token(auth, login["access_token"])
    async with auth.client() as client:
        second = (await _exchange(client, secret)).json()["data"]["access_token"]
        revoked = await client.delete(f"{KEYS}/{key_id}", headers=bearer(login["access_token"]))
        assert revoked.status_code == 200 and revoked.json()["data"]["revoked_at"] is not None
        assert (await _exchange(client, secret)).status_code == 401
    for token in (answer["access_token"], second):
        assert await _me(auth, token) == 401
    assert await _me(auth, login["access_token"]) == 200  # the login session is untouched
    # what a Redis restart loses: the denylist's entries and marker; rebuilt from PostgreSQL
    jtis = [
        jwt.decode(t, options={"verify_signature": False})["jti"] for t in (answer["access_token"], second)
    ]
    async with auth.components.pool.acquire() as conn:
        stored = await conn.fetch("SELECT jti, reason FROM revoked_access_tokens WHERE jti = ANY($1)", jtis)
    assert {r["reason"] for r in stored} == {"api_key_revoked"} and len(stored) == 2
    redis = auth.components.revocations.denylist.client
    await redis.delete(PRIMED_KEY, *[key async for key in redis.scan_iter(match=f"{PREFIX}*")])
    assert await _me(auth, second) == 503  # fails closed until rebuilt
    await auth.components.revocations.ensure_primed()
    for token in (answer["access_token"], second):
        assert await _me(auth, token) == 401


async def test_deactivating_the_owner_stops_the_key(auth: RunningAuth) -> None:
    _, admin = await auth.user_with_role("admin")
    user = await auth.register()
    login = await auth.login(user["email"])
    _, secret, answer = await _key_token(auth, login["access_token"])
    async with auth.client() as client:
        off = await client.post(
            f"/api/v1/auth/users/{user['id']}/deactivate", headers=bearer(admin["access_token"])
        )
        assert off.status_code == 200, off.text
        assert (await _exchange(client, secret)).status_code == 401
    assert await _me(auth, answer["access_token"]) == 401


async def test_an_expiring_key_gives_tokens_that_end_with_it(auth: RunningAuth) -> None:
    user = await auth.register()
    login = await auth.login(user["email"])
    soon = (datetime.now(UTC) + timedelta(seconds=90)).isoformat()
    _, _, answer = await _key_token(auth, login["access_token"], expires_at=soon)
    assert 0 < answer["expires_in"] <= 90


async def test_exchanges_are_limited_per_key(auth: RunningAuth) -> None:
    user = await auth.register()
    login = await auth.login(user["email"])
    if time.time() % 60 > 45:  # all exchanges in one minute window of the limiter
        await asyncio.sleep(60.5 - time.time() % 60)
    _, secret, _ = await _key_token(auth, login["access_token"])
    _, other, _ = await _key_token(auth, login["access_token"])
    async with auth.client() as client:
        statuses = [(await _exchange(client, secret)).status_code for _ in range(10)]
        limited = await _exchange(client, secret)
        assert (await _exchange(client, other)).status_code == 200  # another key has its own budget
    assert statuses == [200] * 9 + [429]  # 10 a minute, the first made when the key was created
    assert limited.status_code == 429 and limited.json()["error_code"] == 429


@pytest.mark.parametrize("scope", ["read", "read execute"])
async def test_the_scope_claim_is_the_keys(auth: RunningAuth, scope: str) -> None:
    user = await auth.register()
    login = await auth.login(user["email"])
    _, _, answer = await _key_token(auth, login["access_token"], scope=scope)
    principal = await auth.components.verifier.verify(answer["access_token"])
    assert principal.scope == scope


async def test_a_token_with_an_unknown_scope_is_refused(auth: RunningAuth) -> None:
    user = await auth.register()
    for scope in ("write", "read read", ""):
        forged = auth.components.issuer.issue(
            user_id=user["id"], email=user["email"], role="casual", scope=scope
        )
        assert await _me(auth, forged.token) == 401
