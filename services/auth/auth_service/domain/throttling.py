"""Brute-force protection for logins, shared by every replica.

- Per account: ``threshold`` failed logins for one email within ``window`` lock that email for
  ``lockout``. Emails without an account are counted and locked the same way, so a lockout says
  nothing about whether an account exists. The counter restarts after a lockout.
- Per client IP: ``ip_limit`` failed logins within ``ip_window`` refuse that IP (429) until the
  window ends, whatever email it tries (credential stuffing over many accounts).

Where the state lives (the rule for a Redis that loses its data): a **lock** is a row in
PostgreSQL (``login_lockouts``), so a locked account stays locked across any Redis restart. The
**counters** (failures per email and per IP within their windows) are short-lived and stay in
Redis; a Redis that comes back empty restarts them, which gives an attacker at most one more
window's budget per Redis loss, never an unlock. With the embedded Redis's AOF they survive an
ordinary restart too.

Keys and rows hold a SHA-256 of the normalised email, never the address itself.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg
import redis.asyncio as aioredis

from auth_service import repository as repo

PREFIX = "auth:login"


def account_key(email: str) -> str:
    return hashlib.sha256(email.encode()).hexdigest()


@dataclass(frozen=True)
class ThrottlePolicy:
    threshold: int = 20
    window_s: int = 900
    lockout_s: int = 900
    ip_limit: int = 100
    ip_window_s: int = 900


class LoginThrottle:
    def __init__(self, client: aioredis.Redis, pool: asyncpg.Pool, policy: ThrottlePolicy) -> None:
        self._redis = client
        self._pool = pool
        self.policy = policy

    async def client_retry_after(self, ip: str) -> int | None:
        """Seconds until ``ip`` may try again, or ``None`` if it is not throttled."""
        key = f"{PREFIX}:fail:ip:{ip}"
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.get(key)
            pipe.ttl(key)
            count, ttl = await pipe.execute()
        if count is not None and int(count) >= self.policy.ip_limit:
            return max(int(ttl), 1)
        return None

    async def is_locked(self, email: str) -> bool:
        return await repo.is_account_locked(self._pool, account_key(email))

    async def record_failure(self, email: str, ip: str) -> bool:
        """Count a failed login; returns ``True`` when this failure locked the account."""
        account = account_key(email)
        failures = f"{PREFIX}:fail:acct:{account}"
        ip_failures = f"{PREFIX}:fail:ip:{ip}"
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.set(failures, 0, ex=self.policy.window_s, nx=True)
            pipe.incr(failures)
            pipe.set(ip_failures, 0, ex=self.policy.ip_window_s, nx=True)
            pipe.incr(ip_failures)
            _, count, _, _ = await pipe.execute()
        if int(count) < self.policy.threshold:
            return False
        until = datetime.now(UTC) + timedelta(seconds=self.policy.lockout_s)
        locked_now = await repo.lock_account(self._pool, account, until)
        await self._redis.delete(failures)
        return locked_now

    async def record_client_failure(self, ip: str) -> None:
        """Count a failure against the client only (a login attempt on a locked account)."""
        key = f"{PREFIX}:fail:ip:{ip}"
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.set(key, 0, ex=self.policy.ip_window_s, nx=True)
            pipe.incr(key)
            await pipe.execute()

    async def record_success(self, email: str) -> None:
        await self._redis.delete(f"{PREFIX}:fail:acct:{account_key(email)}")
