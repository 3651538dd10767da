"""The one place the service asks ``cp_models`` for a day's signals: ``cp_models.signals``.

``day_signals`` runs on ``day_inputs`` of the layer kit's design matrices for the decision day
(the same ``build_datasets`` the walk-forward uses), with L4's meta-label gate from the
registry artifact and Layer 3's scores as the cascade hands them to L4 (``ai_score`` of the
context's active assets; L4 never reads Layer 3's schema). ``day_signals`` only ranks the
scores, so they must be given for every coin of the day's universe. The signals are the
backtest's entries for that close: same sizes, reference prices, targets, stops and expiry.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC
from typing import cast

import pandas as pd

from cp_models.config import CascadeConfig
from cp_models.datasets import CascadeDatasets, day_inputs
from cp_models.layers.l3_asset import AssetSelectionModel
from cp_models.layers.l4_timing import TimingModel
from cp_models.signals import SignalModels, TradeSignal, day_signals, is_rebalance_day
from layer4_timing_service.storage.signals import NewSignal, Vote

#: The frozen configuration the models are trained and evaluated with.
CONFIG = CascadeConfig()


@dataclass(frozen=True)
class DayContext:
    """What the cascade's upper layers tell L4 about the day."""

    cascade_run_id: str
    regime: str | None
    risk_level: str
    #: Layer 3's score per symbol of the day's universe (only its order matters).
    l3_scores: Mapping[str, float]
    model_version: str
    #: The symbols Layer 3 selected (reported in the assessments; the book ranks every score).
    l3_selected: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Assessment:
    symbol: str
    emitted: bool
    reason: str
    probabilities: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class DaySignals:
    signals: list[NewSignal]
    assessments: list[Assessment]


@dataclass(frozen=True)
class ContextScores:
    """Layer 3's scores from the request, in the shape ``SignalModels.l3`` is used in."""

    scores: Mapping[str, float]

    def raw_scores(self, assets: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame({"deep": pd.Series(dict(self.scores), dtype="float64").reindex(assets.index)})


def signal_models(model: TimingModel, ctx: DayContext) -> SignalModels:
    l3 = cast(AssetSelectionModel, ContextScores(ctx.l3_scores))
    return SignalModels(l3=l3, meta=getattr(model, "meta_label", None), version=ctx.model_version)


def _votes(signal: TradeSignal) -> tuple[Vote, ...]:
    return tuple(
        Vote(
            voter=e.name,
            action=signal.side if e.in_favour else "hold",
            weight=e.weight,
            confidence=e.value,
            detail=e.detail,
        )
        for e in signal.evidence
    )


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _analysis(s: TradeSignal) -> str:
    confidence = f"calibrated P(win) {s.confidence:.2f}" if math.isfinite(s.confidence) else "the BTC sleeve"
    return (
        f"{s.side} {s.symbol} at the next open, size {s.size:.1%} of equity ({confidence}, "
        f"{s.agreement:.0%} of the evidence in favour); take profit at {s.target_price:.6g}, "
        f"stop on a close at or below {s.stop_price:.6g}, expires after {s.horizon_days} days"
    )


def new_signal(s: TradeSignal, ctx: DayContext) -> NewSignal:
    reference = s.reference_price
    generated_at = (s.decided_at + pd.Timedelta(days=1)).to_pydatetime().astimezone(UTC)
    target_distance, stop_distance = abs(s.target_price - reference), abs(reference - s.stop_price)
    return NewSignal(
        cascade_run_id=ctx.cascade_run_id,
        symbol=s.symbol,
        signal_type=s.side,
        entry_price=reference,
        target_price=s.target_price,
        stop_loss=s.stop_price,
        target_distance=target_distance,
        stop_distance=stop_distance,
        horizon_bars=s.horizon_days,
        confidence=_finite(s.confidence),
        probability=_finite(s.confidence),
        agreement=s.agreement,
        risk_level=ctx.risk_level,
        risk_reward_ratio=target_distance / stop_distance if stop_distance > 0 else math.nan,
        position_size=s.size,
        time_horizon_hours=s.horizon_days * 24,
        decision_date=s.decided_at.date(),
        generated_at=generated_at,
        expires_at=s.expires_at.to_pydatetime().astimezone(UTC),
        ai_analysis=_analysis(s),
        market_regime=ctx.regime,
        model_version=s.model_version,
        market_context={"regime": ctx.regime, "display": s.display, "l3_rank": s.rank},
        votes=_votes(s),
    )


def trade_signal(record: NewSignal) -> TradeSignal:
    """A stored signal as ``cp_models``' ``TradeSignal`` (what its exit rule reads)."""
    decided = pd.Timestamp(record.decision_date, tz="UTC")
    return TradeSignal(
        symbol=record.symbol,
        side=record.signal_type,
        decided_at=decided,
        entry_date=decided + pd.Timedelta(days=1),
        reference_price=record.entry_price,
        target_price=record.target_price,
        stop_price=record.stop_loss,
        size=record.position_size,
        horizon_days=record.horizon_bars,
        expires_at=pd.Timestamp(record.expires_at),
        confidence=record.confidence if record.confidence is not None else math.nan,
        agreement=record.agreement or 0.0,
        display=bool(record.market_context.get("display", False)),
        model_version=record.model_version,
    )


def _left_out(selected_by_l3: bool) -> str:
    why = "not in the day's book (rank, own trend, L2 caps or the L4 gate)"
    return f"selected by Layer 3 but {why}" if selected_by_l3 else why


def signals_for_day(
    model: TimingModel, ds: CascadeDatasets, day: pd.Timestamp, ctx: DayContext
) -> DaySignals:
    """The signals decided at the close of ``day``, and why the scored coins got none."""
    if not is_rebalance_day(day, CONFIG.book):
        weekday = CONFIG.book.rebalance_weekday
        reason = f"{day.date()} is not a rebalance day: the book decides at the close of weekday {weekday}"
        return DaySignals([], [Assessment(s, False, reason) for s in ctx.l3_scores])
    emitted = day_signals(signal_models(model, ctx), day_inputs(ds, day), CONFIG)
    signals = [new_signal(s, ctx) for s in emitted]
    chosen = {s.symbol for s in emitted}
    assessments = [Assessment(s.symbol, True, "in the day's book", {"win": s.confidence}) for s in emitted]
    assessments += [
        Assessment(symbol, False, _left_out(symbol in ctx.l3_selected))
        for symbol in ctx.l3_scores
        if symbol not in chosen
    ]
    return DaySignals(signals, assessments)
