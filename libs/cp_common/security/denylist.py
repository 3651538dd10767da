"""Revoked access-token ids (``jti``) in Redis, shared by the auth service and every verifier.

Auth adds a logged-out token's ``jti`` with a TTL equal to the token's remaining lifetime, so
the denylist never grows beyond the tokens that could still be presented.
"""

from __future__ import annotations

import redis.asyncio as aioredis

PREFIX = "jwt:denylist:"


class TokenDenylist:
    def __init__(self, client: aioredis.Redis) -> None:
        self._client = client

    async def revoke(self, jti: str, ttl_seconds: int) -> None:
        await self._client.set(f"{PREFIX}{jti}", b"1", ex=max(int(ttl_seconds), 1))

    async def is_revoked(self, jti: str) -> bool:
        return bool(await self._client.exists(f"{PREFIX}{jti}"))
