"""``/api/v1/auth/api-keys``: a user's API keys, and their exchange for an access token."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from auth_service.api.deps import client_ip, components
from auth_service.api_keys import EXCHANGES_PER_MINUTE, ApiKeys
from auth_service.domain.api_keys import MAX_KEY_LENGTH
from cp_common.cache import RateLimiter
from cp_common.http import Envelope, ok
from cp_common.http.openapi import error_responses
from cp_common.security import Principal, Role, current_principal
from cp_common.security.scopes import READ_EXECUTE, READ_ONLY

router = APIRouter(prefix="/api/v1/auth/api-keys", tags=["api-keys"])


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100, description="what the key is for, e.g. my-bot")
    scope: Literal["read", "read execute"] = Field(
        default="read", description=f"'{READ_ONLY}' or '{READ_EXECUTE}' (may also execute signals)"
    )
    max_role: Role | None = Field(default=None, description="at most the owner's role (the default)")
    expires_at: datetime | None = Field(default=None, description="ISO 8601; none: until revoked")


class ApiKeyOut(BaseModel):
    id: str
    name: str
    prefix: str = Field(description="the key's first characters, to tell keys apart")
    scope: str
    max_role: Role
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreated(BaseModel):
    api_key: str = Field(description="the secret: shown this once, stored only as a hash")
    key: ApiKeyOut


class ApiKeysOut(BaseModel):
    items: list[ApiKeyOut]


class ExchangeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    api_key: str = Field(min_length=1, max_length=MAX_KEY_LENGTH)


class ExchangeOut(BaseModel):
    access_token: str
    token_type: str
    expires_in: int
    scope: str
    role: Role


async def api_keys(request: Request) -> ApiKeys:
    limiter = RateLimiter(
        request.app.state.runtime.require_redis(),
        "auth:api-key-exchange",
        limit=EXCHANGES_PER_MINUTE,
        window_seconds=60,
    )
    return ApiKeys(await components(request), limiter)


Flow = Annotated[ApiKeys, Depends(api_keys)]
Caller = Annotated[Principal, Depends(current_principal)]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=Envelope[ApiKeyCreated],
    responses=error_responses(400),
)
async def create_key(body: ApiKeyCreate, caller: Caller, flow: Flow, response: Response) -> object:
    """A new key for the caller (from a login session); the secret is in this answer only."""
    key, secret = await flow.create(
        caller, name=body.name, scope=body.scope, max_role=body.max_role, expires_at=body.expires_at
    )
    response.headers["Cache-Control"] = "no-store"
    return ok({"api_key": secret, "key": key.public()})


@router.get("", response_model=Envelope[ApiKeysOut])
async def list_keys(caller: Caller, flow: Flow) -> object:
    """The caller's keys, revoked and expired ones included (never their secrets)."""
    return ok({"items": [k.public() for k in await flow.list(caller)]})


@router.delete("/{key_id}", response_model=Envelope[ApiKeyOut])
async def revoke_key(
    key_id: Annotated[str, Path(max_length=64, description="the key's id")], caller: Caller, flow: Flow
) -> object:
    """Revoke the key: it cannot be exchanged again and its live access tokens stop working."""
    return ok((await flow.revoke(caller, key_id)).public())


@router.post("/token", response_model=Envelope[ExchangeOut], responses=error_responses(401, 429))
async def exchange(body: ExchangeIn, request: Request, response: Response, flow: Flow) -> object:
    """An access token for the key (at most the usual lifetime, never past the key's expiry), with
    the key's ``scope`` claim; no refresh token: exchange the key again."""
    answer = await flow.exchange(body.api_key, client_ip(request))
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return ok(answer)
