"""Layer 1's public REST API (seed §1.2), every route behind a token and a per-user limit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic_core import to_json

from cp_common.errors import BadRequest
from cp_common.http import ok
from cp_common.http.hot_reads import hot_read
from cp_common.security import Principal
from cp_layer_kit.convert import json_number
from cp_layer_kit.layer import LayerKit, layer_kit
from cp_layer_kit.ratelimit import per_user_limit
from cp_layer_kit.results import StoredResult
from layer1_macro_service.settings import Layer1Settings

router = APIRouter(prefix="/api/v1/layer1", tags=["layer1"])

SENTIMENT_SOURCES = ["fear_greed_index", "social_media", "news", "funding_rates"]
MAX_HISTORY_DAYS = 365
HISTORY_INTERVALS = {
    "1h": timedelta(hours=1),
    "4h": timedelta(hours=4),
    "1d": timedelta(days=1),
    "1w": timedelta(weeks=1),
}
#: The seed's answer when no analysis exists yet.
NO_REGIME: dict[str, Any] = {"regime": "unknown", "confidence": 0.0}
REGIME_FIELDS = (
    "regime",
    "confidence",
    "risk_level",
    "last_updated",
    "risk_score",
    "trend_strength",
    "recommended_exposure",
    "probabilities",
    "current_state",
    "drivers",
    "model_version",
    "as_of",
    "analysis_id",
)


@router.get("/market-regime")
async def market_regime(
    request: Request,
    kit: LayerKit = Depends(layer_kit),
    _: Principal = Depends(per_user_limit("market-regime", 100)),
) -> Any:
    """The latest regime (cached 300 s), or ``{"regime": "unknown", "confidence": 0.0}``."""

    async def build() -> bytes:
        latest = await kit.latest.get()
        return to_json(NO_REGIME if latest is None else {k: latest.get(k) for k in REGIME_FIELDS})

    # kept pre-serialised in the process, dropped when it stores a new analysis (kit.reads)
    return await hot_read(request, kit.reads, build)


@router.get("/sentiment")
async def sentiment(
    kit: LayerKit = Depends(layer_kit), _: Principal = Depends(per_user_limit("sentiment", 60))
) -> Any:
    """The sentiment behind the latest regime (cached 180 s)."""
    settings = kit.settings
    ttl = settings.layer1_sentiment_ttl_s if isinstance(settings, Layer1Settings) else 180.0

    async def compute() -> dict[str, Any]:
        latest = await kit.latest.get()
        if latest is None:
            return {"data": None, "last_updated": None}
        return {"data": latest.get("sentiment"), "last_updated": latest.get("last_updated")}

    cached = await kit.latest.cached("sentiment", ttl, compute)
    return ok({**cached, "sources": SENTIMENT_SOURCES})


def _trend(change: float | None, threshold: float = 0.5) -> str:
    if change is None:
        return "unknown"
    return "rising" if change > threshold else "falling" if change < -threshold else "stable"


@router.get("/dominance")
async def dominance(
    kit: LayerKit = Depends(layer_kit), _: Principal = Depends(per_user_limit("dominance", 60))
) -> Any:
    """BTC, ETH, alt and stablecoin dominance from the latest market snapshot."""
    snapshot = await kit.market.latest_snapshot()
    if snapshot is None:
        return ok({"data": None, "calculation_method": "market_cap_weighted"})
    parts = {k: json_number(snapshot[k], 4) for k in ("btc_dominance", "eth_dominance", "alt_dominance")}
    change = None
    if kit.view.inputs is not None:
        change = json_number(kit.view.inputs.datasets.market["btc_dom_chg_30d"].iloc[-1], 4)
    trend = _trend(change)
    data = {
        **parts,
        "stablecoin_dominance": json_number(snapshot["stablecoin_dominance"], 4),
        "total_dominance": round(sum(v for v in parts.values() if v is not None), 4),
        "btc_dominance_change_30d": change,
        "btc_trend": trend,
        "rotation_signal": {"falling": "altcoins", "rising": "bitcoin"}.get(trend, "neutral"),
        "day": snapshot["day"].isoformat(),
        "last_updated": snapshot["taken_at"].isoformat(),
    }
    return ok({"data": data, "calculation_method": "market_cap_weighted"})


def _bucket(moment: datetime, width: timedelta) -> datetime:
    epoch = datetime(1970, 1, 5, tzinfo=UTC)  # a Monday: weekly buckets start on Mondays
    return epoch + ((moment - epoch) // width) * width


def _history_points(results: list[StoredResult], width: timedelta) -> list[dict[str, Any]]:
    latest: dict[datetime, StoredResult] = {}
    for result in results:  # oldest first: the newest of each bucket wins
        latest[_bucket(result.created_at, width)] = result
    return [
        {
            "time": bucket.isoformat(),
            "regime": r.view.get("regime"),
            "confidence": r.view.get("confidence"),
            "risk_level": r.view.get("risk_level"),
            "recommended_exposure": r.view.get("recommended_exposure"),
            "as_of": r.as_of.isoformat(),
            "model_version": r.model_version,
        }
        for bucket, r in sorted(latest.items())
    ]


@router.get("/history")
async def history(
    days: int = Query(30, ge=1, description="at most 365"),
    interval: str = Query("1d", description="1h, 4h, 1d or 1w"),
    kit: LayerKit = Depends(layer_kit),
    _: Principal = Depends(per_user_limit("history", 20)),
) -> Any:
    """The regime over the last ``days``, one point (the latest analysis) per ``interval``."""
    if days > MAX_HISTORY_DAYS:
        raise BadRequest("Maximum 365 days allowed")
    width = HISTORY_INTERVALS.get(interval)
    if width is None:
        raise BadRequest("interval must be one of 1h, 4h, 1d, 1w")
    results = await kit.results.since(datetime.now(UTC) - timedelta(days=days))
    points = _history_points(results, width)
    return ok({"data": points, "period": f"{days} days", "interval": interval, "data_points": len(points)})
