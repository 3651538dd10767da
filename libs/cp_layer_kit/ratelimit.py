"""Per-user rate limits (the seeds' ``N / 60 s`` per endpoint), on top of the gateway's per-IP ones.

    @router.get("/market-regime")
    async def market_regime(user: Principal = Depends(per_user_limit("market-regime", 100))): ...

The dependency authenticates the caller (401 without a valid token) and counts the call in a
Redis fixed window keyed by the token's subject; over the limit it answers 429 in the envelope
with ``Retry-After`` (seconds until the window resets).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Depends, HTTPException, Request

from cp_common.cache import RateLimiter
from cp_common.security import Principal, current_principal
from cp_common.service import Runtime

MESSAGE = "Rate limit exceeded"


def _limiter(runtime: Runtime, name: str, limit: int, window_s: int) -> RateLimiter:
    """One limiter per route and process: it keeps the caller's reservations between requests."""
    extras_key = f"ratelimit:{name}:{limit}:{window_s}"
    limiter = runtime.extras.get(extras_key)
    if not isinstance(limiter, RateLimiter):
        scale = float(getattr(runtime.settings, "layer_rate_limit_scale", 1.0))
        limiter = RateLimiter(
            runtime.require_redis(),
            f"{runtime.settings.service_name}:{name}",
            limit=max(1, round(limit * scale)),
            window_seconds=window_s,
        )
        runtime.extras[extras_key] = limiter
    return limiter


def per_user_limit(name: str, limit: int, window_s: int = 60) -> Callable[..., Awaitable[Principal]]:
    async def limited(request: Request, principal: Principal = Depends(current_principal)) -> Principal:
        limiter = _limiter(request.app.state.runtime, name, limit, window_s)
        allowed, retry_after = await limiter.hit(principal.user_id)
        # the limit this route applies, for a hot read answered again in front of it
        request.state.rate_limiters = (*getattr(request.state, "rate_limiters", ()), limiter)
        if not allowed:
            raise HTTPException(status_code=429, detail=MESSAGE, headers={"Retry-After": str(retry_after)})
        return principal

    return limited
