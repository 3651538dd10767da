"""FastAPI dependencies: the components, the flows, and per-user rate limits (Redis)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Depends, Request

from admin_service.components import AdminComponents
from admin_service.reviews import Reviews
from admin_service.watchlists import Watchlists
from cp_common.cache import RateLimiter
from cp_common.errors import RateLimited
from cp_common.security import Principal, Role, current_principal, require_roles

COMPONENTS_KEY = "admin"
#: The seeds' limits are per 60 s.
WINDOW_SECONDS = 60

admin_only = require_roles(Role.ADMIN)


def components(request: Request) -> AdminComponents:
    return request.app.state.runtime.extras[COMPONENTS_KEY]


def watchlists(request: Request) -> Watchlists:
    return Watchlists(components(request))


def reviews(request: Request) -> Reviews:
    return Reviews(components(request))


def limited(
    name: str, per_minute: int, who: Callable[..., Awaitable[Principal]] = current_principal
) -> Callable[..., Awaitable[Principal]]:
    """``who`` (the caller, or an admin), counted against ``per_minute`` calls to ``name`` per user."""

    async def check(request: Request, principal: Principal = Depends(who)) -> Principal:
        limiter = RateLimiter(
            components(request).redis, f"admin:{name}", limit=per_minute, window_seconds=WINDOW_SECONDS
        )
        allowed, retry_after = await limiter.hit(principal.user_id)
        if not allowed:
            raise RateLimited(f"rate limit of {per_minute} per minute exceeded; retry in {retry_after} s")
        return principal

    return check
