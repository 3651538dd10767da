"""``GET /api/v1/dashboard/admin``: the seed's four sections for the admin dashboard."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from admin_service.api.deps import admin_only, components
from admin_service.components import AdminComponents
from admin_service.storage import suggestions as suggestion_store
from admin_service.storage import watchlists as watchlist_store
from cp_common.http import ok
from cp_common.security import Principal

router = APIRouter(prefix="/api/v1/dashboard", tags=["dashboard"])


def _performance(health: dict[str, Any]) -> dict[str, Any]:
    """Signal performance is Layer 4's track record, which it does not publish to admin yet."""
    timing = health["services"].get("layer4-timing", {})
    return {
        "status": "unavailable",
        "reason": "layer4-timing publishes no performance summary yet",
        "layer4_timing": timing.get("status", "unavailable"),
    }


@router.get("/admin")
async def admin_dashboard(
    _: Annotated[Principal, Depends(admin_only)], parts: Annotated[AdminComponents, Depends(components)]
) -> object:
    health = await parts.health.report()
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
            "performance_metrics": _performance(health),
        }
    )
