"""API keys: the secret, its stored digest, and what a key may do.

A key is ``cpk_`` + 32 random bytes (URL-safe base64). Only its SHA-256 is stored (full entropy,
as for refresh tokens); the first characters stay visible in listings so a user can tell keys
apart. A key never does more than its owner: its ``max_role`` is at most the owner's role when
it is created, and an exchange issues the lower of it and the owner's role at that moment.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from cp_common.security import Role

KEY_PREFIX = "cpk_"
KEY_BYTES = 32
#: Longer inputs are refused before hashing (a real key has 47 characters).
MAX_KEY_LENGTH = 128
#: Characters of the key shown in listings (the prefix and 8 of the secret).
SHOWN_CHARS = len(KEY_PREFIX) + 8
ROLE_RANK = {Role.CASUAL: 0, Role.PROFESSIONAL: 1, Role.ADMIN: 2}


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(KEY_BYTES)


def key_digest(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


def lower_role(a: Role, b: Role) -> Role:
    return a if ROLE_RANK[a] <= ROLE_RANK[b] else b


@dataclass(frozen=True)
class ApiKey:
    id: str
    user_id: str
    name: str
    prefix: str
    scope: str
    max_role: Role
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None

    def usable_at(self, now: datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)

    def public(self) -> dict[str, object]:
        """The key as listings show it (never the secret or its digest)."""
        return {
            "id": self.id,
            "name": self.name,
            "prefix": self.prefix,
            "scope": self.scope,
            "max_role": self.max_role.value,
            "created_at": self.created_at,
            "expires_at": self.expires_at,
            "last_used_at": self.last_used_at,
            "revoked_at": self.revoked_at,
        }
