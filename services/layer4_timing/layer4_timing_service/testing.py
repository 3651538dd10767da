"""Signal rows with chosen levels, for tests and benchmarks that store signals as Layer 4 does."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

from layer4_timing_service.storage.signals import NewSignal, Vote

VOTES = (
    Vote("rsi", "long", 0.6),
    Vote("macd", "short", 0.5),
    Vote("model", "long", 0.55),
    Vote("volume", "hold", 0.5),
)


def new_signal(
    symbol: str,
    side: str,
    decision_day: date,
    close: float,
    *,
    target_distance: float,
    stop_distance: float,
    horizon: int = 20,
    run_id: str | None = None,
    regime: str = "bull",
    position_size: float = 0.05,
    votes: tuple[Vote, ...] = VOTES,
    generated_at: datetime | None = None,
) -> NewSignal:
    """A signal decided on ``decision_day`` at ``close``; generated the next midnight unless
    ``generated_at`` says when, expiring ``horizon`` days after that."""
    sign = 1.0 if side == "long" else -1.0
    generated = generated_at or datetime.combine(
        decision_day + timedelta(days=1), datetime.min.time(), tzinfo=UTC
    )
    return NewSignal(
        cascade_run_id=run_id or f"run-{uuid.uuid4().hex[:8]}",
        symbol=symbol,
        signal_type=side,
        entry_price=close,
        target_price=close + sign * target_distance,
        stop_loss=close - sign * stop_distance,
        target_distance=target_distance,
        stop_distance=stop_distance,
        horizon_bars=horizon,
        confidence=0.8,
        probability=0.8,
        agreement=0.7,
        risk_level="medium",
        risk_reward_ratio=target_distance / stop_distance,
        position_size=position_size,
        time_horizon_hours=horizon * 24,
        decision_date=decision_day,
        generated_at=generated,
        expires_at=generated + timedelta(days=horizon),
        ai_analysis="test signal",
        market_regime=regime,
        model_version="timing_signals_v5:1",
        market_context={"regime": regime},
        votes=votes,
    )
