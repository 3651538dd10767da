"""``/api/v1/admin``: the admin watchlist's tiers, the audit log and system health; admins only."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from admin_service.api.deps import admin_only, components, limited, watchlists
from admin_service.components import AdminComponents
from admin_service.storage import audit
from admin_service.watchlists import Watchlists
from cp_common.errors import BadRequest
from cp_common.http import ok
from cp_common.http.openapi import error_responses
from cp_common.security import Principal

router = APIRouter(prefix="/api/v1/admin", tags=["admin"])

Admin = Annotated[Principal, Depends(admin_only)]
Components = Annotated[AdminComponents, Depends(components)]
Name = Annotated[str | None, Query(min_length=1, max_length=100, pattern=r"^[a-z0-9_.:-]+$")]


@router.get("/watchlist")
async def admin_watchlist(_: Admin, flows: Annotated[Watchlists, Depends(watchlists)]) -> object:
    """The admin watchlist with its tier-1 and tier-2 items, as the cascade works on them."""
    return ok(await flows.admin_view())


@router.get("/audit", responses=error_responses(400))
async def audit_log(
    _: Admin,
    parts: Components,
    actor_user_id: uuid.UUID | None = None,
    action: Name = None,
    target_type: Name = None,
    target_id: Name = None,
    source: Annotated[str | None, Query(pattern=r"^(admin|auth)$")] = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> object:
    """Audit entries, newest first, filtered and paginated."""
    for stamp in (since, until):
        if stamp is not None and stamp.tzinfo is None:
            raise BadRequest("since and until need a time zone, e.g. 2024-01-01T00:00:00Z")
    where = audit.AuditFilter(
        actor_user_id=str(actor_user_id) if actor_user_id else None,
        action=action,
        target_type=target_type,
        target_id=target_id,
        source=source,
        since=since,
        until=until,
    )
    entries, total = await audit.search(parts.pool, where, limit=limit, offset=offset)
    return ok({"entries": entries, "total": total, "limit": limit, "offset": offset})


@router.get("/system-health", responses=error_responses(429))
async def system_health(
    _: Annotated[Principal, Depends(limited("system-health", 30, admin_only))], parts: Components
) -> object:
    """Readiness, circuit breakers, consumer lag, active models and the last cascade run."""
    return ok(await parts.health.report())
