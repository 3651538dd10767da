"""API keys: create, list, revoke, and exchange a key for a short-lived access token.

A key is exchanged for an ordinary access token (with a ``scope`` claim) instead of being
accepted at the edge, so every service keeps verifying one kind of credential with its own
verifier (signature, expiry, denylist), and revocation needs nothing new: each exchange starts a
refresh family of its own, recorded against the key. Revoking the key revokes those families and
denylists their live access tokens (PostgreSQL first, so it survives a Redis restart); a
deactivated owner's families and tokens are revoked by the deactivation itself, and the exchange
refuses keys of inactive owners. Keys are managed from a login session only: a key's own token
cannot create a stronger key.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import asyncpg

from auth_service import api_key_repository as keys
from auth_service import repository as repo
from auth_service.audit import TOKENS_ISSUED, SecurityEvent, record
from auth_service.components import AuthComponents
from auth_service.domain.api_keys import (
    MAX_KEY_LENGTH,
    ROLE_RANK,
    SHOWN_CHARS,
    ApiKey,
    key_digest,
    lower_role,
    new_key,
)
from auth_service.domain.models import User
from auth_service.domain.tokens import new_refresh_token, refresh_token_digest
from auth_service.sessions import ACCOUNT_DEACTIVATED
from cp_common.cache import RateLimiter
from cp_common.errors import BadRequest, Forbidden, NotFound, RateLimited, Unauthorized
from cp_common.security import Principal, Role

INVALID_KEY = "Invalid, expired or revoked API key"
KEY_NOT_FOUND = "API key not found"
MAX_LIVE_KEYS = 25
MAX_KEY_LIFETIME = timedelta(days=366)
#: Exchanges per key and minute (a script needs one per access-token lifetime).
EXCHANGES_PER_MINUTE = 10


def _refuse_key_tokens(principal: Principal) -> None:
    if principal.scope is not None:
        raise Forbidden("API keys are managed from a login session, not with an API key's token")


class ApiKeys:
    def __init__(self, components: AuthComponents, limiter: RateLimiter) -> None:
        self.c = components
        self.limiter = limiter

    async def _owner(self, conn: asyncpg.Connection, principal: Principal) -> User:
        user = await repo.user_by_id(conn, principal.user_id)
        if user is None or not user.is_active:
            raise Unauthorized(ACCOUNT_DEACTIVATED)
        return user

    async def create(
        self,
        principal: Principal,
        *,
        name: str,
        scope: str,
        max_role: Role | None,
        expires_at: datetime | None,
    ) -> tuple[ApiKey, str]:
        """The new key and its secret (shown this once)."""
        _refuse_key_tokens(principal)
        now = datetime.now(UTC)
        if expires_at is not None and not now < expires_at <= now + MAX_KEY_LIFETIME:
            raise BadRequest("expires_at must lie in the future, at most 366 days ahead")
        secret = new_key()
        async with self.c.pool.acquire() as conn, conn.transaction():
            user = await self._owner(conn, principal)
            role = max_role or user.role
            if ROLE_RANK[role] > ROLE_RANK[user.role]:
                raise Forbidden("an API key cannot have a higher role than its owner")
            live = [k for k in await keys.keys_of(conn, user.id) if k.usable_at(now)]
            if len(live) >= MAX_LIVE_KEYS:
                raise BadRequest(f"at most {MAX_LIVE_KEYS} active API keys per user; revoke one first")
            key = await keys.insert_key(
                conn,
                user_id=user.id,
                name=name,
                prefix=secret[:SHOWN_CHARS],
                secret_hash=key_digest(secret),
                scope=scope,
                max_role=role,
                expires_at=expires_at,
            )
        record(SecurityEvent.API_KEY_CREATED, user_id=user.id, key_id=key.id, scope=scope)
        return key, secret

    async def list(self, principal: Principal) -> list[ApiKey]:
        _refuse_key_tokens(principal)
        return await keys.keys_of(self.c.pool, principal.user_id)

    async def revoke(self, principal: Principal, key_id: str) -> ApiKey:
        """Revoke the key and every access token exchanged for it (durably)."""
        _refuse_key_tokens(principal)
        try:
            parsed = uuid.UUID(key_id)
        except ValueError:
            raise NotFound(KEY_NOT_FOUND) from None
        async with self.c.pool.acquire() as conn, conn.transaction():
            key = await keys.own_key_for_update(conn, principal.user_id, parsed)
            if key is None:
                raise NotFound(KEY_NOT_FOUND)
            revoked = await keys.mark_revoked(conn, key.id)
            families = await keys.sessions_of(conn, key.id)
            live = await repo.revoke_families(conn, families, "api_key_revoked") if families else []
            await self.c.revoke_access(conn, live, "api_key_revoked")
        record(SecurityEvent.API_KEY_REVOKED, user_id=principal.user_id, key_id=key.id, tokens=len(live))
        return revoked

    async def exchange(self, presented: str, ip: str) -> dict[str, object]:
        """A short-lived access token for a usable key of an active owner; 401 otherwise."""
        if not presented or len(presented) > MAX_KEY_LENGTH:
            raise Unauthorized(INVALID_KEY)
        digest = key_digest(presented)
        allowed, retry_after = await self.limiter.hit(digest.hex())
        if not allowed:
            raise RateLimited(
                f"at most {EXCHANGES_PER_MINUTE} exchanges a minute per key; retry in {retry_after} s"
            )
        now = datetime.now(UTC)
        async with self.c.pool.acquire() as conn, conn.transaction():
            key = await keys.key_by_digest_for_update(conn, digest)
            if key is None or not key.usable_at(now):
                raise Unauthorized(INVALID_KEY)
            user = await repo.user_by_id(conn, key.user_id)
            if user is None or not user.is_active:
                raise Unauthorized(ACCOUNT_DEACTIVATED)
            role = lower_role(key.max_role, user.role)
            ttl = None if key.expires_at is None else key.expires_at - now
            access = self.c.issuer.issue(
                user_id=user.id, email=user.email, role=role.value, scope=key.scope, ttl=ttl
            )
            family_id = await repo.create_family(conn, user.id)
            await repo.insert_refresh_token(  # a refresh token nobody holds: the family's record
                conn,
                family_id=family_id,
                user_id=user.id,
                token_hash=refresh_token_digest(new_refresh_token()),
                access_jti=access.jti,
                access_expires_at=access.expires_at,
                expires_at=access.expires_at,
            )
            await keys.add_session(conn, key.id, family_id)
            await keys.mark_used(conn, key.id, now)
        TOKENS_ISSUED.labels("access").inc()
        record(SecurityEvent.API_KEY_EXCHANGED, user_id=user.id, key_id=key.id, client_ip=ip)
        return {
            "access_token": access.token,
            "token_type": "Bearer",
            "expires_in": max(int((access.expires_at - now).total_seconds()), 0),
            "scope": key.scope,
            "role": role.value,
        }
