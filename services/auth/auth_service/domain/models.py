"""What the auth service stores about an account and a refresh token."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from cp_common.security import Role


@dataclass(frozen=True)
class User:
    id: str
    email: str
    role: Role
    is_active: bool
    created_at: datetime
    updated_at: datetime
    last_login_at: datetime | None
    password_hash: str = field(repr=False)

    def public(self) -> dict[str, object]:
        """The account as the API shows it (never the hash)."""
        return {
            "id": self.id,
            "email": self.email,
            "role": self.role.value,
            "is_active": self.is_active,
            "created_at": self.created_at,
            "last_login_at": self.last_login_at,
        }


@dataclass(frozen=True)
class RefreshTokenRecord:
    id: str
    family_id: str
    user_id: str
    access_jti: str
    expires_at: datetime
    rotated_at: datetime | None
    family_revoked_at: datetime | None


@dataclass(frozen=True)
class LiveAccessToken:
    """An access token that may still be presented (for denylisting on revocation)."""

    jti: str
    expires_at: datetime


@dataclass(frozen=True)
class UserFilter:
    role: Role | None = None
    is_active: bool | None = None
    email_contains: str | None = None
