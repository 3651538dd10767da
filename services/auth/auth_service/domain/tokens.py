"""Access tokens (JWT signed with the active key) and refresh tokens (opaque, stored hashed).

Access-token claims (architecture section 6): ``sub`` (user id), ``role``, ``email``, ``iat``,
``exp``, ``jti``, ``iss``, ``aud``; the header names the signing key (``kid``).

A refresh token is 32 random bytes (URL-safe base64). Only its SHA-256 is stored: the token has
full entropy, so a fast hash suffices and a leaked table yields nothing usable.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

from auth_service.domain.keyring import KeyRing

REFRESH_TOKEN_BYTES = 32
#: Longer inputs are refused before hashing (a real refresh token has 43 characters).
MAX_REFRESH_TOKEN_LENGTH = 128


@dataclass(frozen=True)
class AccessToken:
    token: str
    jti: str
    issued_at: datetime
    expires_at: datetime


class AccessTokenIssuer:
    def __init__(
        self,
        keyring: KeyRing,
        *,
        issuer: str,
        audience: str,
        ttl: timedelta,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.keyring = keyring
        self.issuer = issuer
        self.audience = audience
        self.ttl = ttl
        self.clock = clock or (lambda: datetime.now(UTC))

    def issue(
        self, *, user_id: str, email: str, role: str, scope: str | None = None, ttl: timedelta | None = None
    ) -> AccessToken:
        """``scope`` (API-key tokens only) adds the ``scope`` claim; ``ttl`` shortens the lifetime."""
        key = self.keyring.signing_key()
        issued_at = self.clock().replace(microsecond=0)
        expires_at = issued_at + min(ttl or self.ttl, self.ttl)
        jti = uuid.uuid4().hex
        claims = {
            "sub": user_id,
            "role": role,
            "email": email,
            "iat": int(issued_at.timestamp()),
            "exp": int(expires_at.timestamp()),
            "jti": jti,
            "iss": self.issuer,
            "aud": self.audience,
        }
        if scope is not None:
            claims["scope"] = scope
        token = jwt.encode(claims, key.private_key, algorithm=key.algorithm, headers={"kid": key.kid})
        return AccessToken(token=token, jti=jti, issued_at=issued_at, expires_at=expires_at)


def new_refresh_token() -> str:
    return secrets.token_urlsafe(REFRESH_TOKEN_BYTES)


def refresh_token_digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()
