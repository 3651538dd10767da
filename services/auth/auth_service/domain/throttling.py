"""Brute-force protection for logins, in Redis (shared by every replica).

- Per account: ``threshold`` failed logins for one email within ``window`` lock that email for
  ``lockout``. Emails without an account are counted and locked the same way, so a lockout says
  nothing about whether an account exists. The counter restarts after a lockout.
- Per client IP: ``ip_limit`` failed logins within ``ip_window`` refuse that IP (429) until the
  window ends, whatever email it tries (credential stuffing over many accounts).

Keys hold a SHA-256 of the normalised email, never the address itself.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import redis.asyncio as aioredis

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
    def __init__(self, client: aioredis.Redis, policy: ThrottlePolicy) -> None:
        self._redis = client
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
        return bool(await self._redis.exists(f"{PREFIX}:lock:{account_key(email)}"))

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
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.set(f"{PREFIX}:lock:{account}", 1, ex=self.policy.lockout_s, nx=True)
            pipe.delete(failures)
            locked_now, _ = await pipe.execute()
        return bool(locked_now)

    async def record_client_failure(self, ip: str) -> None:
        """Count a failure against the client only (a login attempt on a locked account)."""
        key = f"{PREFIX}:fail:ip:{ip}"
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.set(key, 0, ex=self.policy.ip_window_s, nx=True)
            pipe.incr(key)
            await pipe.execute()

    async def record_success(self, email: str) -> None:
        await self._redis.delete(f"{PREFIX}:fail:acct:{account_key(email)}")
