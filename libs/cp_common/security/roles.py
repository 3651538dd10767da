"""FastAPI dependencies: who is calling (``current_principal``) and may they (``require_roles``).

    @router.post("/watchlists/{watchlist_id}/items")
    async def add_item(..., admin: Principal = Depends(require_roles(Role.ADMIN))): ...

Missing or invalid credentials answer 401 (:class:`Unauthorized`), a valid token with a role
that is not allowed answers 403 (:class:`Forbidden`). The verifier comes from
``request.app.state.jwt_verifier`` (set by the app factory).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from cp_common.context import caller_var
from cp_common.errors import Forbidden, ServiceError, Unauthorized
from cp_common.security.jwt_verifier import JwtVerifier
from cp_common.security.principal import Principal, Role

MSG_MISSING = "missing bearer token"

# auto_error=False: answer a missing token with our own 401 envelope instead of FastAPI's 403.
_bearer_scheme = HTTPBearer(auto_error=False, description="Access token from /api/v1/auth")


def _verifier(request: Request) -> JwtVerifier:
    verifier = getattr(request.app.state, "jwt_verifier", None)
    if verifier is None:
        raise ServiceError("authentication is not configured")
    return verifier


async def current_principal(
    request: Request,
    credentials: HTTPAuthorizationCredentials | None = Depends(_bearer_scheme),
) -> Principal:
    """The verified caller of this request (also kept on ``request.state.principal``)."""
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
        raise Unauthorized(MSG_MISSING)
    principal = await _verifier(request).verify(credentials.credentials)
    request.state.principal = principal
    caller_var.set(principal.user_id)
    return principal


def require_roles(*roles: Role | str) -> Callable[..., Awaitable[Principal]]:
    """A dependency admitting only callers with one of ``roles``.

    Role names are checked when the route is declared, so a typo fails at import time.
    """
    if not roles:
        raise ValueError("require_roles needs at least one role")
    allowed = frozenset(Role(role) for role in roles)
    message = (
        "Admin privileges required"
        if allowed == {Role.ADMIN}
        else "requires role " + " or ".join(sorted(allowed))
    )

    async def require_allowed_role(
        request: Request, principal: Principal = Depends(current_principal)
    ) -> Principal:
        if principal.role not in allowed:
            raise Forbidden(message)
        # what admitted the caller, for a hot read answered again in front of the route
        request.state.allowed_roles = allowed & getattr(request.state, "allowed_roles", allowed)
        return principal

    return require_allowed_role
