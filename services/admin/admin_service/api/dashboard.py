"""``GET /api/v1/dashboard/admin``: the seed's four sections for the admin dashboard."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from admin_service.api.deps import admin_only, components
from admin_service.components import AdminComponents
from admin_service.storage import suggestions as suggestion_store
from admin_service.storage import watchlists as watchlist_store
from cp_common.http import ok
from cp_common.security import Principal

router = APIRouter(prefix="/api/v1/dashboard", tags=["dashboard"])

#: The window of ``performance_metrics`` (Layer 4 accepts 1..365 days).
PerformanceDays = Annotated[int, Query(ge=1, le=365)]


@router.get("/admin")
async def admin_dashboard(
    _: Annotated[Principal, Depends(admin_only)],
    parts: Annotated[AdminComponents, Depends(components)],
    performance_days: PerformanceDays = 30,
) -> object:
    """The seed's four sections; ``performance_metrics`` is Layer 4's live record of the last
    ``performance_days`` (``status: unavailable`` with the reason when Layer 4 does not answer)."""
    health, performance = await asyncio.gather(
        parts.health.report(), parts.performance.section(performance_days)
    )
    return ok(
        {
            "watchlist_stats": await watchlist_store.stats(parts.pool),
            "suggestion_queue": await suggestion_store.queue_stats(
                parts.pool, parts.settings.admin_notify_confidence
            ),
            "system_health": {
                "overall": health["overall"],
                "services": {name: service["status"] for name, service in health["services"].items()},
                "cascade": health["cascade"],
            },
            "performance_metrics": performance,
        }
    )
