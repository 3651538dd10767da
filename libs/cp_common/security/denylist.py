"""Revoked access-token ids (``jti``) in Redis: the fast path every verifier checks.

The source of truth is PostgreSQL (the auth service's ``revoked_access_tokens``); Redis holds a
copy: one key per revoked ``jti`` with a TTL equal to the token's remaining lifetime (so the copy
never outgrows the tokens that could still be presented), plus the marker :data:`PRIMED_KEY`,
which the auth service writes only after it has copied every live revocation from PostgreSQL.

A Redis that lost its data (restarted without persistence, flushed, a new instance) has no
marker. :meth:`TokenDenylist.is_revoked` then raises :class:`DenylistNotPrimed` and every
verifier refuses tokens as "revocation check unavailable" (503: fail closed) until auth has
rebuilt the copy, which it checks for every ``AUTH_DENYLIST_CHECK_INTERVAL_S`` (1 s).

Each revocation is also published on :data:`CHANNEL` (``{"jti": ..., "exp": ...}``), so
verifiers that cache verified tokens (:mod:`cp_common.security.token_cache`) drop it at once.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

import redis
import redis.asyncio as aioredis

PREFIX = "jwt:denylist:"
#: Present once the copy is complete; its value changes with every rebuild.
PRIMED_KEY = "jwt:denylist-primed"
CHANNEL = "jwt:revocations"


class DenylistNotPrimed(RuntimeError):
    """Redis holds no complete copy of the revocations (it restarted empty): fail closed."""


@dataclass(frozen=True, slots=True)
class Revocation:
    jti: str
    #: The token's ``exp`` (Unix seconds).
    expires_at: float


def revocation_message(revocation: Revocation) -> bytes:
    return json.dumps({"jti": revocation.jti, "exp": revocation.expires_at}).encode()


def parse_revocation_message(data: bytes | str) -> Revocation | None:
    try:
        message = json.loads(data)
        jti, exp = message["jti"], float(message["exp"])
    except (ValueError, TypeError, KeyError):
        return None
    return Revocation(jti, exp) if isinstance(jti, str) and jti else None


class TokenDenylist:
    """``linger_s`` is added to every TTL (the verifiers' clock-skew leeway)."""

    def __init__(self, client: aioredis.Redis, *, linger_s: float = 30.0) -> None:
        self._client = client
        self.linger_s = linger_s

    @property
    def client(self) -> aioredis.Redis:
        return self._client

    def _ttl(self, revocation: Revocation, now: float) -> int:
        return int(revocation.expires_at - now + self.linger_s) + 1

    async def revoke_many(self, revocations: Iterable[Revocation]) -> None:
        """Copy revocations into Redis and announce them to every caching verifier."""
        now = time.time()
        live = [r for r in revocations if self._ttl(r, now) > 0]
        if not live:
            return
        async with self._client.pipeline(transaction=False) as pipe:
            for revocation in live:
                pipe.set(f"{PREFIX}{revocation.jti}", b"1", ex=self._ttl(revocation, now))
            for revocation in live:
                pipe.publish(CHANNEL, revocation_message(revocation))
            await pipe.execute()

    async def revoke(self, jti: str, ttl_seconds: int) -> None:
        """Denylist one ``jti`` for ``ttl_seconds`` (and announce it)."""
        await self.revoke_many([Revocation(jti, time.time() + ttl_seconds - self.linger_s)])

    async def is_revoked(self, jti: str) -> bool:
        """One round trip; raises :class:`DenylistNotPrimed` when the copy is not complete."""
        primed, revoked = await self._client.mget(PRIMED_KEY, f"{PREFIX}{jti}")
        if primed is None:
            raise DenylistNotPrimed("the revocation denylist has not been rebuilt yet")
        return revoked is not None

    async def primed_epoch(self) -> bytes | None:
        """The marker's value (a new one per rebuild), ``None`` when Redis lost the copy."""
        value = await self._client.get(PRIMED_KEY)
        return value.encode() if isinstance(value, str) else value

    async def prime(self, revocations: Iterable[Revocation]) -> bytes:
        """Write every live revocation, then the marker (a rebuild from the source of truth)."""
        await self.revoke_many(revocations)
        epoch = uuid.uuid4().hex.encode()
        await self._client.set(PRIMED_KEY, epoch)
        return epoch


def mark_empty_redis_primed(url: str) -> None:
    """Mark the denylist of a Redis that holds no revocation at all as complete.

    Only for a Redis nothing but this process has written to: a test session's or a benchmark's
    own embedded server, where no auth service runs to prime it. Never for a shared one.
    """
    client = redis.Redis.from_url(url)
    try:
        client.set(PRIMED_KEY, b"empty", nx=True)
    finally:
        client.close()
