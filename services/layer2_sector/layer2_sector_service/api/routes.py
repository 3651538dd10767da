"""Layer 2's public REST API (seed §1.3), every route behind a token and a per-user limit.

Sectors are addressed by their taxonomy name (``defi``, ``layer1`` ...), not the seed's integer
ids: the fleet's taxonomy (ingestion's) has no numeric ids.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from fastapi import APIRouter, Depends, Path

from cp_common.errors import NotFound
from cp_common.http import ok
from cp_common.security import Principal
from cp_layer_kit.convert import json_number
from cp_layer_kit.layer import LayerKit, layer_kit
from cp_layer_kit.ratelimit import per_user_limit
from layer2_sector_service.settings import Layer2Settings

router = APIRouter(prefix="/api/v1/layer2", tags=["layer2"])


@router.get("/sectors")
async def sectors(
    kit: LayerKit = Depends(layer_kit), _: Principal = Depends(per_user_limit("sectors", 100))
) -> Any:
    """Every sector with its current momentum, relative strength and flow (latest analysis)."""
    latest = await kit.latest.get()
    listed = latest["sectors"] if latest else []
    return ok(
        {
            "data": listed,
            "total_sectors": len(listed),
            "last_updated": latest.get("last_updated") if latest else None,
            "model_version": latest.get("model_version") if latest else None,
        }
    )


async def _members(kit: LayerKit, sector: str) -> list[dict[str, Any]]:
    return [a for a in await kit.market.assets() if a["sector"] == sector]


def _performance(kit: LayerKit, symbols: list[str], top: int) -> dict[str, Any]:
    """Top performers by 30-day return, 30-day volume and the sector's 7/30-day trend."""
    inputs = kit.view.inputs
    if inputs is None or not symbols:
        return {"top_performers": [], "volume_30d_usd": None, "return_7d": None, "return_30d": None}
    close = inputs.data.close.reindex(columns=symbols)
    ret_30 = close.iloc[-1] / close.iloc[-31] - 1 if len(close) > 30 else close.iloc[-1] * np.nan
    ret_7 = close.iloc[-1] / close.iloc[-8] - 1 if len(close) > 7 else close.iloc[-1] * np.nan
    ranked = ret_30.dropna().sort_values(ascending=False)
    volume = inputs.data.quote_volume.reindex(columns=symbols).iloc[-30:].sum().sum()
    return {
        "top_performers": [{"symbol": s, "return_30d": json_number(r)} for s, r in ranked.iloc[:top].items()],
        "volume_30d_usd": json_number(volume, 2),
        "return_7d": json_number(ret_7.mean()),
        "return_30d": json_number(ret_30.mean()),
    }


@router.get("/sectors/{sector_id}")
async def sector(
    sector_id: str = Path(max_length=40, description="taxonomy name, e.g. defi"),
    kit: LayerKit = Depends(layer_kit),
    _: Principal = Depends(per_user_limit("sector", 200)),
) -> Any:
    """One sector: its scores, top performers, market cap, volume and trend."""
    latest = await kit.latest.get()
    scored = {s["sector"]: s for s in latest["sectors"]} if latest else {}
    members = await _members(kit, sector_id)
    if sector_id not in scored and not members:
        raise NotFound("Sector not found")
    settings = kit.settings
    top = settings.layer2_top_performers if isinstance(settings, Layer2Settings) else 5
    caps = [m["market_cap_usd"] for m in members if m["market_cap_usd"] is not None]
    data = {
        "sector": sector_id,
        **scored.get(sector_id, {}),
        "assets": len(members),
        "market_cap_usd": json_number(sum(caps), 2) if caps else None,
        **_performance(kit, [m["symbol"] for m in members], top),
        "leading": sector_id in (latest or {}).get("leading_sectors", []),
        "declining": sector_id in (latest or {}).get("declining_sectors", []),
        "last_updated": latest.get("last_updated") if latest else None,
    }
    return ok({"data": data})


@router.get("/rotation")
async def rotation(
    kit: LayerKit = Depends(layer_kit), _: Principal = Depends(per_user_limit("rotation", 50))
) -> Any:
    """Money flow between sectors and the recommended allocation (latest analysis)."""
    latest = await kit.latest.get()
    if latest is None:
        return ok({"data": None, "analysis_confidence": 0.0})
    keys = (
        "leading_sectors",
        "declining_sectors",
        "rotation_probability",
        "recommended_allocation",
        "flow_directions",
        "macro_regime",
        "confidence",
        "model_version",
        "as_of",
        "last_updated",
    )
    return ok(
        {"data": {k: latest.get(k) for k in keys}, "analysis_confidence": latest.get("confidence", 0.0)}
    )
