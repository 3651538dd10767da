"""``/api/v1/auth``: register, login, refresh, logout, me, change password."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response, status

from auth_service import repository as repo
from auth_service.accounts import Accounts
from auth_service.api.deps import accounts, client_ip, components, sessions
from auth_service.api.schemas import (
    ChangePasswordRequest,
    LoginOut,
    LoginRequest,
    LogoutRequest,
    RefreshRequest,
    RegisterRequest,
    TokensOut,
    UserOut,
)
from auth_service.components import AuthComponents
from auth_service.sessions import ACCOUNT_DEACTIVATED, Sessions
from cp_common.errors import Unauthorized
from cp_common.http import Envelope, ok
from cp_common.http.hot_reads import hot_read
from cp_common.http.openapi import error_responses
from cp_common.security import Principal, current_principal

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


def _no_store(response: Response) -> None:
    """Token responses must not be cached (RFC 6749 section 5.1)."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"


@router.post(
    "/register",
    status_code=status.HTTP_201_CREATED,
    response_model=Envelope[UserOut],
    responses=error_responses(400, 409, 429),
)
async def register(body: RegisterRequest, request: Request, flow: Accounts = Depends(accounts)) -> object:
    """Create an account with the ``casual`` role."""
    user = await flow.register(body.email, body.password, client_ip(request))
    return ok(user.public())


@router.post("/login", response_model=Envelope[LoginOut], responses=error_responses(401, 429))
async def login(
    body: LoginRequest, request: Request, response: Response, flow: Sessions = Depends(sessions)
) -> object:
    """An access token and a refresh token for valid credentials; 401 otherwise (the answer is
    the same for an unknown email, a wrong password and a locked account)."""
    user, tokens = await flow.login(body.email, body.password, client_ip(request))
    _no_store(response)
    return ok({**tokens.as_response(), "user": user.public()})


@router.post("/refresh", response_model=Envelope[TokensOut], responses=error_responses(401))
async def refresh(
    body: RefreshRequest, request: Request, response: Response, flow: Sessions = Depends(sessions)
) -> object:
    """Trade a refresh token for a new pair; the presented token is used up (rotation)."""
    tokens = await flow.refresh(body.refresh_token, client_ip(request))
    _no_store(response)
    return ok(tokens.as_response())


@router.post("/logout", response_model=Envelope[dict[str, bool]])
async def logout(
    request: Request,
    body: LogoutRequest | None = None,
    principal: Principal = Depends(current_principal),
    flow: Sessions = Depends(sessions),
) -> object:
    """End this session: its refresh tokens stop working and this access token is revoked."""
    await flow.logout(principal, body.refresh_token if body else None, client_ip(request))
    return ok({"logged_out": True})


@router.get("/me", response_model=Envelope[UserOut])
async def me(
    request: Request,
    principal: Principal = Depends(current_principal),
    parts: AuthComponents = Depends(components),
) -> object:
    async def build() -> bytes:
        user = await repo.user_by_id(parts.pool, principal.user_id)
        if user is None or not user.is_active:
            raise Unauthorized(ACCOUNT_DEACTIVATED)
        return UserOut.model_validate(user.public()).model_dump_json().encode()

    return await hot_read(request, parts.me_answers, build, per_caller=True)


@router.put("/me/password", response_model=Envelope[TokensOut], responses=error_responses(400, 429))
async def change_password(
    body: ChangePasswordRequest,
    request: Request,
    response: Response,
    principal: Principal = Depends(current_principal),
    flow: Sessions = Depends(sessions),
) -> object:
    """Change the caller's password; every other session ends, a new pair is returned."""
    tokens = await flow.change_password(
        principal, body.current_password, body.new_password, client_ip(request)
    )
    _no_store(response)
    return ok(tokens.as_response())
