"""``GET /api/v1/dashboard/professional`` and ``/casual``, built from the latest completed run."""

from __future__ import annotations

from collections import defaultdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends

from cp_common.errors import Unavailable
from cp_common.http import ok
from cp_common.security import Principal
from cryptopredict.common.v1 import signals_pb2
from cryptopredict.orchestrator.v1 import orchestrator_pb2 as pb
from orchestrator_service import education
from orchestrator_service.api import views
from orchestrator_service.api.deps import any_role, components, professional_or_admin
from orchestrator_service.components import Components
from orchestrator_service.storage import runs

router = APIRouter(prefix="/api/v1/dashboard", tags=["dashboard"])


async def _latest(parts: Components) -> tuple[runs.RunRow, pb.RunCascadeResponse]:
    row = await runs.latest_completed(parts.pool)
    if row is None or row.response is None:
        raise Unavailable("no cascade run has completed yet")
    return row, pb.RunCascadeResponse.FromString(row.response)


def _active(response: pb.RunCascadeResponse) -> list[signals_pb2.Signal]:
    signals = [s for s in response.timing.signals if s.status == signals_pb2.SIGNAL_STATUS_ACTIVE]
    return sorted(signals, key=lambda s: s.confidence, reverse=True)


def _portfolio(response: pb.RunCascadeResponse, signals: list[signals_pb2.Signal]) -> dict[str, Any]:
    sector_of = {
        a.symbol: a.sector for a in [*response.assets.analysis.tier1, *response.assets.analysis.tier2]
    }
    by_sector: dict[str, float] = defaultdict(float)
    for signal in signals:
        by_sector[sector_of.get(signal.symbol, "unknown")] += signal.position_size
    long_size = sum(s.position_size for s in signals if s.signal_type == signals_pb2.SIGNAL_TYPE_LONG)
    short_size = sum(s.position_size for s in signals if s.signal_type == signals_pb2.SIGNAL_TYPE_SHORT)
    ratios = [s.risk_reward_ratio for s in signals]
    return {
        "recommended_exposure": response.macro.analysis.recommended_exposure,
        "recommended_allocation": dict(response.sector.analysis.recommended_allocation),
        "signal_exposure_by_sector": dict(by_sector),
        "long_position_size": long_size,
        "short_position_size": short_size,
        "net_position_size": long_size - short_size,
        "average_risk_reward": sum(ratios) / len(ratios) if ratios else None,
        "signal_count": len(signals),
    }


@router.get("/professional")
async def professional_dashboard(
    _: Annotated[Principal, Depends(professional_or_admin)], parts: Annotated[Components, Depends(components)]
) -> object:
    row, response = await _latest(parts)
    signals = _active(response)
    return ok(
        {
            "run": views.run_summary(row),
            "layer_data": views.sections(response),
            "active_signals": [views.as_dict(s) for s in signals],
            "portfolio_analysis": _portfolio(response, signals),
        }
    )


@router.get("/casual")
async def casual_dashboard(
    _: Annotated[Principal, Depends(any_role)], parts: Annotated[Components, Depends(components)]
) -> object:
    row, response = await _latest(parts)
    signals = _active(response)
    return ok(
        {
            "as_of": row.finished_at.isoformat() if row.finished_at else None,
            "simple_overview": education.overview(response),
            "guided_recommendations": [education.recommendation(s) for s in signals[:5]],
            "educational_content": education.lessons(response, signals),
        }
    )
