"""Layer 3's public REST API: the latest cascade's asset scores with their reasons and features.

Watchlists and the suggestion review queue belong to the admin service.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Path

from cp_common.errors import NotFound
from cp_common.http import ok
from cp_common.security import Principal
from cp_layer_kit.layer import LayerKit, layer_kit
from cp_layer_kit.ratelimit import per_user_limit

router = APIRouter(prefix="/api/v1/layer3", tags=["layer3"])

META = ("selected", "model_version", "as_of", "last_updated", "analysis_id", "cascade_run_id")


@router.get("/assets")
async def assets(
    kit: LayerKit = Depends(layer_kit), _: Principal = Depends(per_user_limit("assets", 100))
) -> Any:
    """Every asset of the latest analysis (tier 1 first), best first within each tier."""
    latest = await kit.latest.get()
    if latest is None:
        return ok({"data": [], "total_assets": 0, "selected": [], "last_updated": None})
    listed = latest["assets"]
    return ok({"data": listed, "total_assets": len(listed), **{k: latest.get(k) for k in META}})


@router.get("/assets/{symbol}")
async def asset(
    symbol: str = Path(pattern=r"^[A-Za-z0-9]{1,20}$"),
    kit: LayerKit = Depends(layer_kit),
    _: Principal = Depends(per_user_limit("asset", 200)),
) -> Any:
    """One asset's score, reason and features, and the suggestions about it."""
    latest = await kit.latest.get()
    wanted = symbol.upper()
    found = next((a for a in (latest or {}).get("assets", []) if a["symbol"] == wanted), None)
    if latest is None or found is None:
        raise NotFound("Asset not found")
    suggestions = [s for s in latest.get("suggestions", []) if s["symbol"] == wanted]
    return ok({"data": {**found, "suggestions": suggestions}, **{k: latest.get(k) for k in META[1:]}})
