"""JSON views of stored rows: the seed's signal fields, the detail's reasoning, risk assessment
and probability analysis, executions and portfolio positions."""

from __future__ import annotations

import math
from typing import Any

from layer4_timing_service.storage.paper import Execution
from layer4_timing_service.storage.signals import SignalRecord


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def outcome(signal: SignalRecord) -> dict[str, Any] | None:
    if signal.status == "active":
        return None
    return {
        "status": signal.status,
        "entry_fill_price": signal.entry_fill_price,
        "exit_price": signal.exit_price,
        "closed_at": signal.closed_at,
        "gross_return": signal.gross_return,
        "net_return": signal.net_return,
        "bars_held": signal.bars_held,
        "reason": signal.close_reason,
    }


def signal(s: SignalRecord) -> dict[str, Any]:
    return {
        "id": str(s.id),
        "symbol": s.symbol,
        "signal_type": s.signal_type,
        "status": s.status,
        "entry_price": s.entry_fill_price or s.entry_price,
        "entry_filled": s.entry_fill_price is not None,
        "target_price": s.target_price,
        "stop_loss": s.stop_loss,
        "confidence_score": s.confidence,
        "risk_level": s.risk_level,
        "risk_reward_ratio": _finite(s.risk_reward_ratio),
        "position_size": s.position_size,
        "time_horizon_hours": s.time_horizon_hours,
        "generated_at": s.generated_at,
        "expires_at": s.expires_at,
        "ai_analysis": s.ai_analysis,
        "market_regime": s.market_regime,
        "market_context": s.market_context,
        "evidence": [
            {
                "voter": v.voter,
                "vote": v.action,
                "weight": v.weight,
                "value": _finite(v.confidence),
                "detail": v.detail,
            }
            for v in s.votes
        ],
        "display": bool(s.market_context.get("display", False)),
        "consensus_strength": _finite(s.agreement),
        "model_version": s.model_version,
        "cascade_run_id": s.cascade_run_id,
        "outcome": outcome(s),
    }


def signal_detail(s: SignalRecord) -> dict[str, Any]:
    """The seed's "AI reasoning, risk assessment, probability analysis" for one signal."""
    entry = s.entry_fill_price or s.entry_price
    sided = [v for v in s.votes if v.action == s.signal_type]
    against = [v for v in s.votes if v.action not in (s.signal_type, "hold")]
    return {
        **signal(s),
        "reasoning": {
            "summary": s.ai_analysis,
            "supporting_evidence": [v.voter for v in sided],
            "opposing_evidence": [v.voter for v in against],
        },
        "risk_assessment": {
            "risk_level": s.risk_level,
            "risk_reward_ratio": _finite(s.risk_reward_ratio),
            "stop_distance_pct": s.stop_distance / entry,
            "target_distance_pct": s.target_distance / entry,
            "position_size": s.position_size,
            # share of equity lost at the stop when following the suggested size
            "loss_at_stop_pct_of_equity": s.position_size * s.stop_distance / entry,
        },
        "probability_analysis": {
            "probability": s.probability,
            "confidence_score": s.confidence,
            "weighted_agreement": _finite(s.agreement),
            "evidence_weight_for": sum(v.weight for v in sided),
            "evidence_weight_total": sum(v.weight for v in s.votes),
        },
    }


def execution(e: Execution) -> dict[str, Any]:
    return {
        "execution_id": str(e.id),
        "signal_id": str(e.signal_id),
        "symbol": e.symbol,
        "side": e.side,
        "size": e.size,
        "notional": e.notional,
        "quantity": e.quantity,
        "entry_price": e.entry_price,
        "executed_at": e.executed_at,
        "status": e.status,
        "exit_price": e.exit_price,
        "closed_at": e.closed_at,
        "net_return": e.net_return,
        "realised_pnl": e.realised_pnl,
    }
