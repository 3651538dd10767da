"""The parts of a running auth service, built once at start-up from its settings and runtime."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

import asyncpg
import redis.asyncio as aioredis

from auth_service.domain.keyring import KeyRing
from auth_service.domain.models import LiveAccessToken
from auth_service.domain.passwords import PasswordHasher, PasswordPolicy
from auth_service.domain.throttling import LoginThrottle, ThrottlePolicy
from auth_service.domain.tokens import AccessTokenIssuer
from auth_service.revocations import Revocations
from auth_service.settings import AuthSettings
from cp_common.cache import RateLimiter
from cp_common.http.read_cache import PreserialisedCache
from cp_common.security import JwtVerifier
from cp_common.security.denylist import TokenDenylist
from cp_common.security.token_cache import RevocationListener, VerifiedTokenCache, cached_verification

#: The JWKS URL of the in-process verifier (never dialled: answered by the key ring directly).
IN_PROCESS_JWKS_URL = "http://auth.in-process/.well-known/jwks.json"


@dataclass
class AuthComponents:
    settings: AuthSettings
    pool: asyncpg.Pool
    keyring: KeyRing
    issuer: AccessTokenIssuer
    hasher: PasswordHasher
    policy: PasswordPolicy
    throttle: LoginThrottle
    revocations: Revocations
    register_limiter: RateLimiter
    verifier: JwtVerifier
    #: Feeds the verifier's token cache with pushed revocations (``None``: no cache).
    revocation_listener: RevocationListener | None
    #: ``GET /me`` answers, pre-serialised per user; dropped after every change of a user row in
    #: this process (other replicas: 2 s at most). Deactivation and role changes also revoke
    #: the user's access tokens, so a kept answer never outlives them.
    me_answers: PreserialisedCache = field(default_factory=PreserialisedCache)

    async def revoke_access(
        self, conn: asyncpg.Connection, tokens: Sequence[LiveAccessToken], reason: str
    ) -> None:
        """Revoke access tokens durably (PostgreSQL) and in the Redis denylist until they would
        have expired (plus the verifiers' leeway); call inside the change's transaction."""
        await self.revocations.revoke(conn, tokens, reason)


def build_keyring(settings: AuthSettings) -> KeyRing:
    retention = (
        settings.auth_access_token_ttl_s + settings.auth_token_leeway_s + settings.auth_keys_reload_interval_s
    )
    return KeyRing(
        settings.signing_keys_dir,
        activation_delay=timedelta(seconds=settings.auth_key_activation_delay_s),
        retention=timedelta(seconds=retention),
        generate_algorithm=settings.auth_signing_algorithm if settings.generates_keys else None,
    )


def in_process_verifier(
    settings: AuthSettings, keyring: KeyRing, denylist: TokenDenylist, cache: VerifiedTokenCache | None
) -> JwtVerifier:
    """The shared :class:`JwtVerifier` (same checks and token cache as every other service)
    reading the key ring directly instead of fetching the JWKS over the network."""

    async def own_key_set() -> object:
        return keyring.jwks()

    return JwtVerifier(
        IN_PROCESS_JWKS_URL,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        leeway=settings.auth_token_leeway_s,
        is_revoked=denylist.is_revoked,
        cache_ttl=settings.auth_keys_reload_interval_s,
        min_refresh_interval=0.0,
        jwks_source=own_key_set,
        cache=cache,
    )


def build_components(settings: AuthSettings, pool: asyncpg.Pool, redis: aioredis.Redis) -> AuthComponents:
    keyring = build_keyring(settings)
    keyring.load()
    denylist = TokenDenylist(redis, linger_s=settings.auth_token_leeway_s)
    cache, listener = cached_verification(redis, settings.jwt_cache_seconds)
    return AuthComponents(
        settings=settings,
        pool=pool,
        keyring=keyring,
        issuer=AccessTokenIssuer(
            keyring,
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            ttl=timedelta(seconds=settings.auth_access_token_ttl_s),
        ),
        hasher=PasswordHasher(
            time_cost=settings.auth_argon2_time_cost,
            memory_kib=settings.auth_argon2_memory_kib,
            parallelism=settings.auth_argon2_parallelism,
            max_concurrent=settings.auth_max_concurrent_hashes,
        ),
        policy=PasswordPolicy(settings.auth_password_min_length, settings.auth_password_max_length),
        throttle=LoginThrottle(
            redis,
            pool,
            ThrottlePolicy(
                threshold=settings.auth_lockout_threshold,
                window_s=settings.auth_lockout_window_s,
                lockout_s=settings.auth_lockout_duration_s,
                ip_limit=settings.auth_ip_failure_limit,
                ip_window_s=settings.auth_ip_failure_window_s,
            ),
        ),
        revocations=Revocations(pool, denylist),
        register_limiter=RateLimiter(
            redis,
            "auth-register",
            limit=settings.auth_register_limit,
            window_seconds=settings.auth_register_window_s,
        ),
        verifier=in_process_verifier(settings, keyring, denylist, cache),
        revocation_listener=listener,
    )
