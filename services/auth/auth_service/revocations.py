"""Durable access-token revocation: PostgreSQL is the source of truth, Redis the verifiers' copy.

A revocation is written to ``revoked_access_tokens`` and to the Redis denylist inside the
transaction of the change that caused it (logout, refresh-token reuse, role change, password
change, deactivation): if Redis is unreachable the change fails as a whole (503) and nothing is
half-revoked; every verifier refuses tokens while Redis is down anyway.

:meth:`Revocations.keep_primed` watches the denylist's marker and rebuilds the copy from
PostgreSQL whenever Redis comes back without it (restarted empty, flushed, replaced). Until the
rebuild every verifier fails closed (:class:`cp_common.security.denylist.DenylistNotPrimed`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import asyncpg

from auth_service import repository as repo
from auth_service.domain.models import LiveAccessToken
from cp_common.security.denylist import Revocation, TokenDenylist

log = logging.getLogger(__name__)


def _as_revocations(tokens: Sequence[LiveAccessToken]) -> list[Revocation]:
    return [Revocation(t.jti, t.expires_at.timestamp()) for t in tokens]


class Revocations:
    def __init__(self, pool: asyncpg.Pool, denylist: TokenDenylist) -> None:
        self._pool = pool
        self.denylist = denylist
        #: Rebuilds done (observability and tests).
        self.rebuilds = 0

    async def revoke(self, conn: asyncpg.Connection, tokens: Sequence[LiveAccessToken], reason: str) -> None:
        """Record and denylist ``tokens``; call inside the transaction of the change."""
        cutoff = datetime.now(UTC) - timedelta(seconds=self.denylist.linger_s)
        live = [t for t in tokens if t.expires_at > cutoff]
        if not live:
            return
        await repo.insert_revocations(conn, live, reason)
        await self.denylist.revoke_many(_as_revocations(live))

    async def rebuild(self) -> int:
        """Copy every revocation that may still matter from PostgreSQL into Redis; marks it primed."""
        cutoff = datetime.now(UTC) - timedelta(seconds=self.denylist.linger_s)
        async with self._pool.acquire() as conn:
            live = await repo.revocations_expiring_after(conn, cutoff)
        await self.denylist.prime(_as_revocations(live))
        self.rebuilds += 1
        return len(live)

    async def ensure_primed(self) -> bool:
        """Rebuild if Redis has no complete copy; ``True`` when a rebuild ran."""
        if await self.denylist.primed_epoch() is not None:
            return False
        count = await self.rebuild()
        log.warning("revocation denylist rebuilt from PostgreSQL", extra={"count": count})
        return True

    async def keep_primed(self, interval_s: float) -> None:
        while True:
            try:
                await self.ensure_primed()
            except Exception as exc:  # Redis or PostgreSQL down: verifiers fail closed meanwhile
                log.warning("revocation denylist check failed: %s", type(exc).__name__)
            await asyncio.sleep(interval_s)
