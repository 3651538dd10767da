"""Verified access tokens, cached per process, with revocations pushed over Redis pub/sub.

Verifying a token costs a signature check and a Redis round trip (the denylist). A hot read path
(a dashboard polling with the same token) would pay both on every request, so the verifier keeps
the principal of a token it verified, keyed by the token's SHA-256, and serves it again:

- until the token's ``exp`` at the latest, and never longer than ``max_age_s`` after the full
  check (the hard bound on the revocation delay, even if a pushed revocation were lost);
- only while :class:`RevocationListener` is subscribed to :data:`denylist.CHANNEL`. Every
  revocation auth makes is published there; the listener records its ``jti`` and the cache
  refuses it at once (typically within milliseconds).
- When the subscription breaks (Redis restarted, the connection died) the cache is flushed and
  bypassed: every request takes the full path (signature + denylist, which fails closed while
  Redis is down or its denylist is not rebuilt) until the listener has subscribed again. A
  reconnection redis-py makes by itself is caught too (:class:`_WatchedPubSub`); a connection
  that dies silently is found by a PING every ``ping_interval_s``.

A full check that started before a flush or reconnection is not cached (``generation``), so a
result from before a gap in the pushed revocations never enters the cache.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
from typing import Any

import redis.asyncio as aioredis

from cp_common.security.denylist import CHANNEL, parse_revocation_message
from cp_common.security.principal import Principal

log = logging.getLogger(__name__)

DEFAULT_MAX_AGE_S = 5.0
DEFAULT_MAX_ENTRIES = 50_000


def token_key(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


class VerifiedTokenCache:
    """Principals of verified tokens; serves nothing until :meth:`enable` (the listener's call)."""

    def __init__(
        self, *, max_age_s: float = DEFAULT_MAX_AGE_S, max_entries: int = DEFAULT_MAX_ENTRIES
    ) -> None:
        if max_age_s <= 0 or max_entries <= 0:
            raise ValueError("max_age_s and max_entries must be positive")
        self.max_age_s = max_age_s
        self.max_entries = max_entries
        self._entries: dict[bytes, tuple[Principal, float]] = {}  # key -> (principal, valid until)
        self._revoked: dict[str, float] = {}  # jti -> its token's exp (Unix seconds)
        self._enabled = False
        #: Changes on every flush; a full check begun under another generation is not cached.
        self.generation = 0

    @property
    def enabled(self) -> bool:
        return self._enabled

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, token: str) -> Principal | None:
        if not self._enabled:
            return None
        key = token_key(token)
        entry = self._entries.get(key)
        if entry is None:
            return None
        principal, valid_until = entry
        if time.time() >= valid_until or principal.jti in self._revoked:
            del self._entries[key]
            return None
        return principal

    def put(self, token: str, principal: Principal, generation: int) -> None:
        if not self._enabled or generation != self.generation or principal.jti in self._revoked:
            return
        valid_until = min(principal.expires_at.timestamp(), time.time() + self.max_age_s)
        if len(self._entries) >= self.max_entries:
            self._evict()
        self._entries[token_key(token)] = (principal, valid_until)

    def is_revoked(self, jti: str) -> bool:
        """Whether a revocation of ``jti`` was pushed (and its token has not expired yet)."""
        return jti in self._revoked

    def revoke(self, jti: str, expires_at: float) -> None:
        """A pushed revocation: refuse ``jti`` from now on (remembered until its token expires)."""
        self._revoked[jti] = expires_at
        if len(self._revoked) > self.max_entries:
            now = time.time()
            self._revoked = {j: exp for j, exp in self._revoked.items() if exp > now}

    def enable(self) -> None:
        self._enabled = True

    def flush(self, *, disable: bool) -> None:
        """Forget every entry (and stop serving, with ``disable``): pushed revocations may be lost."""
        self._entries.clear()
        self._revoked.clear()
        self.generation += 1
        if disable:
            self._enabled = False

    def _evict(self) -> None:
        now = time.time()
        self._entries = {k: v for k, v in self._entries.items() if v[1] > now}
        while len(self._entries) >= self.max_entries:
            del self._entries[next(iter(self._entries))]  # the oldest insertion


class _WatchedPubSub(aioredis.client.PubSub):
    """redis-py reconnects a subscription by itself (and resubscribes) inside ``get_message``;
    messages published meanwhile are lost, so the cache must hear of every (re)connection."""

    def __init__(self, client: aioredis.Redis, cache: VerifiedTokenCache) -> None:
        super().__init__(client.connection_pool)
        self._cache = cache
        #: Set by the listener once the first subscription is confirmed.
        self.confirmed = False
        self.reconnects = 0

    async def on_connect(self, connection: Any) -> None:
        self._cache.flush(disable=True)
        await super().on_connect(connection)
        if self.confirmed:  # resubscribed (SUBSCRIBE is sent): serve again, from empty
            self.reconnects += 1
            self._cache.enable()


class RevocationListener:
    """Keeps ``cache`` fed with pushed revocations; the cache serves only while subscribed.

    ``ping_interval_s`` bounds how long a silently dead subscription goes unnoticed.
    """

    def __init__(
        self,
        client: aioredis.Redis,
        cache: VerifiedTokenCache,
        *,
        ping_interval_s: float = 1.0,
        retry_delay_s: float = 0.5,
    ) -> None:
        self._client = client
        self.cache = cache
        self.ping_interval_s = ping_interval_s
        self.retry_delay_s = retry_delay_s
        self._task: asyncio.Task[None] | None = None
        self.subscribed = asyncio.Event()
        #: Subscriptions made (observability and tests).
        self.subscriptions = 0

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self.run(), name="jwt-revocation-listener")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self.cache.flush(disable=True)

    async def run(self) -> None:
        """Subscribe, and subscribe again after every loss, until cancelled."""
        while True:
            try:
                await self._listen()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # Redis down or restarted: full checks until resubscribed
                log.warning("revocation subscription lost: %s", type(exc).__name__)
            self.subscribed.clear()
            self.cache.flush(disable=True)
            await asyncio.sleep(self.retry_delay_s)

    async def _listen(self) -> None:
        pubsub = _WatchedPubSub(self._client, self.cache)
        try:
            await pubsub.subscribe(CHANNEL)
            await self._confirmed(pubsub)
            self.subscriptions += 1
            # Entries verified before this point might have missed a revocation: start clean.
            self.cache.flush(disable=False)
            self.cache.enable()
            pubsub.confirmed = True
            self.subscribed.set()
            while True:
                message = await pubsub.get_message(
                    ignore_subscribe_messages=True, timeout=self.ping_interval_s
                )
                if message is None:
                    await pubsub.ping()  # a dead connection raises here
                    continue
                if message.get("type") == "message":
                    self._apply(message.get("data"))
        finally:
            with contextlib.suppress(Exception):
                await pubsub.aclose()

    async def _confirmed(self, pubsub: _WatchedPubSub) -> None:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            message = await pubsub.get_message(timeout=0.5)
            if message is not None and message.get("type") == "subscribe":
                return
        raise ConnectionError("no subscription confirmation from Redis")

    def _apply(self, data: object) -> None:
        if not isinstance(data, bytes | str):
            return
        revocation = parse_revocation_message(data)
        if revocation is None:
            log.warning("ignoring a malformed revocation message")
            return
        self.cache.revoke(revocation.jti, revocation.expires_at)


def cached_verification(
    client: aioredis.Redis, max_age_s: float
) -> tuple[VerifiedTokenCache | None, RevocationListener | None]:
    """A cache and the listener that feeds it (start it), or ``(None, None)`` for ``max_age_s == 0``."""
    if max_age_s <= 0:
        return None, None
    cache = VerifiedTokenCache(max_age_s=max_age_s)
    return cache, RevocationListener(client, cache)
