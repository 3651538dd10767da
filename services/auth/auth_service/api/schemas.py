"""Request and response bodies. Input sizes are bounded here; the rules (email syntax, password
policy) are checked by the domain so that their messages never echo what was submitted."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from cp_common.security import Role

#: Generous bounds on raw input, well above the real limits (254-character emails, policy max).
EmailField = Annotated[str, Field(min_length=1, max_length=320)]
PasswordField = Annotated[str, Field(min_length=1, max_length=1024)]
RefreshTokenField = Annotated[str, Field(min_length=1, max_length=256)]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


class RegisterRequest(_Request):
    email: EmailField
    password: PasswordField


class LoginRequest(_Request):
    email: EmailField
    password: PasswordField


class RefreshRequest(_Request):
    refresh_token: RefreshTokenField


class LogoutRequest(_Request):
    refresh_token: RefreshTokenField | None = None


class ChangePasswordRequest(_Request):
    current_password: PasswordField
    new_password: PasswordField


class RoleChangeRequest(_Request):
    role: Role


class UserOut(BaseModel):
    id: str
    email: str
    role: Role
    is_active: bool
    created_at: datetime
    last_login_at: datetime | None


class TokensOut(BaseModel):
    access_token: str
    token_type: str = "Bearer"  # noqa: S105 - the scheme name, not a secret
    expires_in: int
    refresh_token: str
    refresh_expires_in: int


class LoginOut(TokensOut):
    user: UserOut


class UsersPage(BaseModel):
    items: list[UserOut]
    total: int
    limit: int
    offset: int
