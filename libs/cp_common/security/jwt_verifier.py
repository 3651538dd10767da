"""Verify access tokens against the auth service's JWKS, locally (no call to auth per request).

Tokens are signed asymmetrically (RS256 or EdDSA) and name their key with ``kid``. Keys are
fetched from the JWKS URL and cached; a token naming an unknown ``kid`` triggers a refresh
(after a key rotation), but at most one refresh per ``min_refresh_interval`` so a flood of
tokens with made-up ``kid`` values cannot hammer the auth service. Concurrent refreshes are
coalesced into one request.

Every failure raises :class:`cp_common.errors.Unauthorized` with one of a few fixed messages;
the token itself is never echoed or logged.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import httpx
import jwt
from jwt import PyJWK
from jwt.exceptions import ExpiredSignatureError, InvalidTokenError, PyJWKError

from cp_common.errors import Unauthorized, Unavailable
from cp_common.security import scopes
from cp_common.security.denylist import DenylistNotPrimed
from cp_common.security.principal import Principal, Role
from cp_common.security.token_cache import VerifiedTokenCache, token_key

logger = logging.getLogger(__name__)

#: Signature algorithms this verifier can be configured with. Never ``none``, never HS*: a
#: shared-secret algorithm would let anyone holding the (public) JWKS forge tokens.
ASYMMETRIC_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
DEFAULT_ALGORITHMS = ("RS256", "EdDSA")
REQUIRED_CLAIMS = ("sub", "role", "email", "iat", "exp", "jti", "iss", "aud")
#: Longer strings are rejected before parsing: real access tokens are well under 2 KB.
MAX_TOKEN_LENGTH = 8192

MSG_INVALID = "invalid token"
MSG_EXPIRED = "token expired"
MSG_REVOKED = "token revoked"
MSG_KEYS_UNAVAILABLE = "authentication keys unavailable"
MSG_REVOCATION_UNAVAILABLE = "token revocation check unavailable"

RevocationCheck = Callable[[str], Awaitable[bool]]


class JwtVerifier:
    """Verifies access tokens and returns the :class:`Principal` they carry.

    ``leeway`` (seconds) absorbs clock skew in ``exp``/``nbf``/``iat``. ``is_revoked`` is an
    optional ``async (jti) -> bool`` hook (the auth service denylists logged-out ``jti`` s).
    ``cache_ttl`` bounds how long fetched keys are trusted before a routine refresh; when a
    refresh fails the cached keys stay in use.
    """

    def __init__(
        self,
        jwks_url: str,
        *,
        issuer: str,
        audience: str,
        algorithms: Iterable[str] = DEFAULT_ALGORITHMS,
        leeway: float = 30.0,
        is_revoked: RevocationCheck | None = None,
        cache_ttl: float = 3600.0,
        min_refresh_interval: float = 30.0,
        fetch_timeout: float = 5.0,
        jwks_source: Callable[[], Awaitable[object]] | None = None,
        cache: VerifiedTokenCache | None = None,
    ) -> None:
        chosen = tuple(algorithms)
        refused = [alg for alg in chosen if alg not in ASYMMETRIC_ALGORITHMS]
        if refused or not chosen:
            raise ValueError(f"only asymmetric JWT algorithms are allowed, not {refused or 'none'}")
        self.jwks_url = jwks_url
        self.issuer = issuer
        self.audience = audience
        self.algorithms = chosen
        self.leeway = leeway
        self.is_revoked = is_revoked
        self.cache_ttl = cache_ttl
        self.min_refresh_interval = min_refresh_interval
        self.fetch_timeout = fetch_timeout
        self._client: httpx.AsyncClient | None = None
        # Where the key set comes from: by default an HTTP GET of ``jwks_url``; the auth service
        # passes its own key ring instead of calling itself over the network.
        self._jwks_source = jwks_source or self._get_jwks_over_http
        self._keys: dict[str, PyJWK] = {}
        self._fetched_at: float | None = None  # monotonic time of the last successful fetch
        self._attempted_at: float | None = None  # monotonic time of the last fetch attempt
        self._refresh_lock = asyncio.Lock()
        #: Verified tokens served again without a signature check or denylist round trip (see
        #: :mod:`cp_common.security.token_cache`); ``None``: every request is fully checked.
        self.cache = cache
        self._verifying: dict[tuple[bytes, int], asyncio.Task[Principal]] = {}
        #: Number of JWKS requests made (observability and tests).
        self.fetch_count = 0

    @classmethod
    def from_settings(cls, settings: Any, **overrides: Any) -> JwtVerifier:
        """Build from :class:`cp_common.settings.ServiceSettings` (``JWKS_URL``, ``JWT_ISSUER``,
        ``JWT_AUDIENCE``)."""
        if not settings.jwks_url:
            raise ValueError("JWKS_URL is not set")
        options: dict[str, Any] = {"issuer": settings.jwt_issuer, "audience": settings.jwt_audience}
        options.update(overrides)
        return cls(settings.jwks_url, **options)

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def verify(self, token: str) -> Principal:
        """The principal of a valid token; raises :class:`Unauthorized` otherwise."""
        if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
            raise Unauthorized(MSG_INVALID)
        cache = self.cache
        if cache is None:
            return await self._verify(token)
        cached = cache.get(token)
        if cached is not None:
            return cached
        # Concurrent requests with a token whose entry just expired share one full check
        # (otherwise a token used on many connections costs a burst of denylist reads every
        # few seconds); one that began before a flush is not shared after it.
        key = (token_key(token), cache.generation)
        task = self._verifying.get(key)
        if task is None:
            task = asyncio.ensure_future(self._verify_and_keep(token, cache))
            task.add_done_callback(lambda done: self._checked(key, done))
            self._verifying[key] = task
        principal = await asyncio.shield(task)  # a request that goes away leaves the check running
        if cache.is_revoked(principal.jti):  # pushed while the shared check ran
            raise Unauthorized(MSG_REVOKED)
        return principal

    def _checked(self, key: tuple[bytes, int], task: asyncio.Task[Principal]) -> None:
        del self._verifying[key]
        if not task.cancelled():
            task.exception()  # seen: the requests that waited on it may have gone away

    async def _verify_and_keep(self, token: str, cache: VerifiedTokenCache) -> Principal:
        generation = cache.generation
        principal = await self._verify(token)
        cache.put(token, principal, generation)
        return principal

    async def _verify(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
        except InvalidTokenError:
            raise Unauthorized(MSG_INVALID) from None
        alg, kid = header.get("alg"), header.get("kid")
        if alg not in self.algorithms or not isinstance(kid, str) or not kid:
            logger.info("token refused: algorithm not allowed or kid missing")
            raise Unauthorized(MSG_INVALID)
        key = await self._signing_key(kid)
        if key is None or key.algorithm_name != alg:
            logger.info("token refused: no matching signing key")
            raise Unauthorized(MSG_INVALID)
        claims = self._decode(token, key, alg)
        principal = _principal_from(claims)
        await self._check_not_revoked(principal.jti)
        return principal

    def _decode(self, token: str, key: PyJWK, alg: str) -> Mapping[str, Any]:
        try:
            return jwt.decode(
                token,
                key=key.key,
                algorithms=[alg],
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway,
                options={
                    "require": list(REQUIRED_CLAIMS),
                    "verify_signature": True,
                    "verify_exp": True,
                    "verify_nbf": True,
                    "verify_iat": True,
                    "verify_aud": True,
                    "verify_iss": True,
                },
            )
        except ExpiredSignatureError:
            raise Unauthorized(MSG_EXPIRED) from None
        except InvalidTokenError as exc:
            logger.info("token refused: %s", type(exc).__name__)
            raise Unauthorized(MSG_INVALID) from None

    async def _check_not_revoked(self, jti: str) -> None:
        if self.is_revoked is None:
            return
        try:
            revoked = await self.is_revoked(jti)
        except DenylistNotPrimed:
            # Redis came back empty and auth has not rebuilt the denylist yet: fail closed.
            logger.warning("token refused: the revocation denylist is being rebuilt")
            raise Unavailable(MSG_REVOCATION_UNAVAILABLE) from None
        except Exception:
            # Fail closed, but as "unavailable": the token may be fine, the denylist is not.
            logger.warning("token revocation check failed", exc_info=True)
            raise Unavailable(MSG_REVOCATION_UNAVAILABLE) from None
        if revoked:
            raise Unauthorized(MSG_REVOKED)

    async def _signing_key(self, kid: str) -> PyJWK | None:
        if self._has_fresh_key(kid):
            return self._keys[kid]
        # Waiting on the lock also waits for a refresh another request already started.
        async with self._refresh_lock:
            if not self._has_fresh_key(kid) and self._may_refresh(time.monotonic()):
                await self._fetch()
        if self._fetched_at is None:
            raise Unavailable(MSG_KEYS_UNAVAILABLE)
        return self._keys.get(kid)

    def _has_fresh_key(self, kid: str) -> bool:
        return (
            kid in self._keys
            and self._fetched_at is not None
            and time.monotonic() - self._fetched_at <= self.cache_ttl
        )

    def _may_refresh(self, now: float) -> bool:
        return self._attempted_at is None or now - self._attempted_at >= self.min_refresh_interval

    async def _get_jwks_over_http(self) -> object:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self.fetch_timeout)
        response = await self._client.get(self.jwks_url)
        response.raise_for_status()
        return response.json()

    async def _fetch(self) -> None:
        self._attempted_at = time.monotonic()
        self.fetch_count += 1
        try:
            document = await self._jwks_source()
        except (httpx.HTTPError, ValueError) as exc:
            logger.warning("JWKS fetch from %s failed: %s", self.jwks_url, type(exc).__name__)
            return
        keys = _parse_jwks(document, self.algorithms)
        if not keys:
            logger.warning("JWKS from %s holds no usable signing key; keeping the cached keys", self.jwks_url)
            return
        self._keys = keys
        self._fetched_at = time.monotonic()


def _parse_jwks(document: object, algorithms: tuple[str, ...]) -> dict[str, PyJWK]:
    """Usable public signing keys by ``kid``; anything else in the set is skipped."""
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        return {}
    keys: dict[str, PyJWK] = {}
    for entry in document["keys"]:
        if not isinstance(entry, dict) or not isinstance(entry.get("kid"), str):
            continue
        if entry.get("use", "sig") != "sig" or "d" in entry:  # encryption keys, private keys
            continue
        try:
            key = PyJWK(entry)
        except (PyJWKError, InvalidTokenError, ValueError, TypeError):
            logger.warning("skipping unusable JWK %s", entry.get("kid"))
            continue
        if key.algorithm_name in algorithms:
            keys[entry["kid"]] = key
    return keys


def _principal_from(claims: Mapping[str, Any]) -> Principal:
    sub, email, jti, role = (claims.get(name) for name in ("sub", "email", "jti", "role"))
    if not (
        isinstance(sub, str) and sub and isinstance(email, str) and email and isinstance(jti, str) and jti
    ):
        raise Unauthorized(MSG_INVALID)
    if not isinstance(role, str) or role not in {r.value for r in Role}:
        raise Unauthorized(MSG_INVALID)
    scope = claims.get("scope")
    if scope is not None and not (isinstance(scope, str) and scopes.valid(scope)):
        raise Unauthorized(MSG_INVALID)
    return Principal(
        user_id=sub,
        role=Role(role),
        email=email,
        jti=jti,
        issued_at=datetime.fromtimestamp(claims["iat"], UTC),
        expires_at=datetime.fromtimestamp(claims["exp"], UTC),
        scope=scope,
    )
