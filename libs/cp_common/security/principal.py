"""Who is calling: the verified identity taken from an access token."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Role(StrEnum):
    """The ``role`` claim. ``admin`` is the admin marker (blueprint section 8)."""

    ADMIN = "admin"
    PROFESSIONAL = "professional"
    CASUAL = "casual"


@dataclass(frozen=True, slots=True)
class Principal:
    """A caller whose access token was verified."""

    user_id: str
    role: Role
    email: str
    jti: str
    issued_at: datetime
    expires_at: datetime
    #: The token's ``scope`` claim (space-separated, :mod:`cp_common.security.scopes`); ``None``
    #: for a login session's token, which may do whatever its role may.
    scope: str | None = None

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN
