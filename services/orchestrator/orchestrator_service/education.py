"""Plain-language texts for the casual dashboard, written from the current regime and signals.

Every sentence is built from the latest run's numbers (regime and its probability, risk level,
suggested exposure, leading sectors, each signal's entry, target and stop), so the texts change
with the market instead of being fixed copy.
"""

from __future__ import annotations

from typing import Any

from cp_common.proto_enums import from_proto
from cryptopredict.common.v1 import analysis_pb2 as common
from cryptopredict.common.v1 import signals_pb2
from cryptopredict.orchestrator.v1 import orchestrator_pb2 as pb

REGIME_MEANING = {
    "bull": "prices across the market have been rising with strength behind the move",
    "bear": "prices across the market have been falling and sellers are in control",
    "sideways": "prices are moving within a range without a clear direction",
    "volatile": "prices are swinging hard in both directions",
}
REGIME_HINT = {
    "bull": "Trends tend to persist, but chasing a move that already ran far risks buying a top.",
    "bear": "Rallies in a falling market often fade; keeping positions small protects savings.",
    "sideways": "Breakouts from a range can be false starts; waiting for confirmation costs little.",
    "volatile": "Large swings hit stop losses more often; smaller positions keep losses bearable.",
}


def regime_name(value: int) -> str:
    return from_proto(common.Regime, value, default="unknown")


def risk_name(value: int) -> str:
    return from_proto(common.RiskLevel, value, default="unknown")


def _pct(value: float) -> str:
    return f"{value * 100:.0f}%"


def overview(response: pb.RunCascadeResponse) -> dict[str, Any]:
    macro = response.macro.analysis
    regime = regime_name(macro.regime)
    meaning = REGIME_MEANING.get(regime, "the market's direction is unclear")
    sentence = (
        f"The market is in a {regime} phase: {meaning}. The model is {_pct(macro.confidence)} sure of this, "
        f"rates the risk as {risk_name(macro.risk_level)} and suggests keeping about "
        f"{_pct(macro.recommended_exposure)} of a portfolio in crypto."
    )
    return {
        "market_mood": regime,
        "confidence": macro.confidence,
        "risk_level": risk_name(macro.risk_level),
        "suggested_exposure": macro.recommended_exposure,
        "summary": sentence,
        "strong_sectors": list(response.sector.analysis.leading_sectors),
    }


def _signal_direction(signal: signals_pb2.Signal) -> str:
    return "buy" if signal.signal_type == signals_pb2.SIGNAL_TYPE_LONG else "sell"


def recommendation(signal: signals_pb2.Signal) -> dict[str, Any]:
    direction = _signal_direction(signal)
    gain = abs(signal.target_price / signal.entry_price - 1) if signal.entry_price else 0.0
    loss = abs(1 - signal.stop_loss / signal.entry_price) if signal.entry_price else 0.0
    text = (
        f"{signal.symbol}: a {direction} idea near {signal.entry_price:,.4g}. It aims for "
        f"{signal.target_price:,.4g} (about {_pct(gain)}) and gives up at {signal.stop_loss:,.4g} "
        f"(about {_pct(loss)}), for roughly {signal.time_horizon_hours} hours. "
        f"Confidence {_pct(signal.confidence)}."
    )
    return {
        "symbol": signal.symbol,
        "action": direction,
        "confidence": signal.confidence,
        "risk_level": risk_name(signal.risk_level),
        "explanation": text,
    }


def lessons(response: pb.RunCascadeResponse, signals: list[signals_pb2.Signal]) -> list[dict[str, str]]:
    macro = response.macro.analysis
    regime = regime_name(macro.regime)
    items = [
        {
            "topic": f"What a {regime} market means",
            "content": f"Right now {REGIME_MEANING.get(regime, 'the direction is unclear')}. "
            + REGIME_HINT.get(regime, "Keeping positions small is the safe default."),
        },
        {
            "topic": "Why the suggested exposure matters",
            "content": f"With risk rated {risk_name(macro.risk_level)}, the model suggests about "
            f"{_pct(macro.recommended_exposure)} in crypto; the rest stays out of the market's swings.",
        },
    ]
    leading = list(response.sector.analysis.leading_sectors)
    if leading:
        items.append(
            {
                "topic": "Sector rotation",
                "content": f"Money tends to move between kinds of coins. Currently the strongest are "
                f"{', '.join(leading)}; a rotation probability of "
                f"{_pct(response.sector.analysis.rotation_probability)} says how likely leadership "
                "is to change.",
            }
        )
    if signals:
        first = signals[0]
        items.append(
            {
                "topic": "Stop loss and target, on a real example",
                "content": f"The {first.symbol} idea enters near {first.entry_price:,.4g} and exits at "
                f"{first.stop_loss:,.4g} if wrong or {first.target_price:,.4g} if right: a risk/reward of "
                f"{first.risk_reward_ratio:.1f}, so one win pays for about "
                f"{first.risk_reward_ratio:.1f} losses.",
            }
        )
    return items
