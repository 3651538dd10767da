"""The one place the service asks ``cp_models`` for a day's signals.

Until the signal-quality work publishes its single entry point, this adapter runs the code the
walk-forward backtest trades by: ``TimingModel.proba`` and ``decide`` on the decision day's rows
of the same design matrices (``cp_models.datasets``, built by the layer kit's read model), then
``cp_models.cascade._signal_rows`` for the barrier distances, horizon and position size. The
service adds only what a stored signal needs on top (ids, times, indicative levels, text).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd

from cp_models.cascade import _signal_rows
from cp_models.config import CascadeConfig
from cp_models.datasets import CascadeDatasets, rows_between
from cp_models.labels import L4_CLASSES
from cp_models.layers import voters
from cp_models.layers.l4_timing import TimingModel
from layer4_timing_service.storage.signals import NewSignal, Vote

VOTE_NAMES = {1: "long", -1: "short", 0: "hold"}


@dataclass(frozen=True)
class DayContext:
    """What the cascade's upper layers tell L4 about the day."""

    cascade_run_id: str
    regime: str | None
    risk_level: str
    recommended_exposure: float
    model_version: str


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


def decision_time(day: pd.Timestamp) -> datetime:
    """A decision on day ``day`` is taken at its close (the next 00:00 UTC)."""
    return (day + pd.Timedelta(days=1)).to_pydatetime().astimezone(UTC)


def _candidate_rows(ds: CascadeDatasets, day: pd.Timestamp, candidates: Sequence[str]) -> pd.DataFrame:
    rows = rows_between(ds.assets, day, day)
    return rows[rows.index.get_level_values(1).isin(list(candidates))]


def _votes(decision: pd.Series, model: TimingModel) -> tuple[Vote, ...]:
    return tuple(
        Vote(
            voter=v,
            action=VOTE_NAMES[int(decision[f"vote_{v}"])],
            weight=float(model.voter_weights.get(v, voters.MIN_WEIGHT)),
        )
        for v in voters.ALL_VOTERS
    )


def _analysis(
    side: str, symbol: str, probability: float, agreement: float, barrier_regime: str | None, days: int
) -> str:
    return (
        f"{side} {symbol}: calibrated P({side}) {probability:.2f}, weighted voter agreement {agreement:.2f}; "
        "entry at the next open, target and stop from ATR14 scaled for a "
        f"{barrier_regime or 'unknown'} market, "
        f"closed by the backtest's rules within {days} days"
    )


def _new_signal(
    row: pd.Series,
    decision: pd.Series,
    close: float,
    barrier_regime: str | None,
    ctx: DayContext,
    model: TimingModel,
) -> NewSignal:
    side = str(row["side"])
    sign = 1.0 if side == "long" else -1.0
    target_dist, stop_dist = float(row["target_dist"]), float(row["stop_dist"])
    days = int(row["horizon_days"])
    generated_at = decision_time(pd.Timestamp(row["date"]))
    probability = float(row["probability"])
    return NewSignal(
        cascade_run_id=ctx.cascade_run_id,
        symbol=str(row["symbol"]),
        signal_type=side,
        entry_price=close,
        target_price=close + sign * target_dist,
        stop_loss=close - sign * stop_dist,
        target_distance=target_dist,
        stop_distance=stop_dist,
        horizon_bars=days,
        confidence=probability,
        probability=probability,
        agreement=float(row["agreement"]),
        risk_level=ctx.risk_level,
        risk_reward_ratio=target_dist / stop_dist if stop_dist > 0 else math.nan,
        position_size=float(row["weight"]),
        time_horizon_hours=days * 24,
        decision_date=pd.Timestamp(row["date"]).date(),
        generated_at=generated_at,
        expires_at=generated_at + timedelta(hours=days * 24),
        ai_analysis=_analysis(
            side, str(row["symbol"]), probability, float(row["agreement"]), barrier_regime, days
        ),
        market_regime=ctx.regime,
        model_version=ctx.model_version,
        market_context={
            "regime": ctx.regime,
            "barrier_regime": barrier_regime,
            "recommended_exposure": ctx.recommended_exposure,
            "atr_14_pct": float(decision.get("atr_14_pct", math.nan)),
        },
        votes=_votes(decision, model),
    )


def day_signals(
    model: TimingModel, ds: CascadeDatasets, day: pd.Timestamp, candidates: Sequence[str], ctx: DayContext
) -> DaySignals:
    """The signals L4 emits on ``day`` for ``candidates``, and why the others got none."""
    rows = _candidate_rows(ds, day, candidates)
    known = set(rows.index.get_level_values(1))
    assessments = [
        Assessment(s, False, f"no market data for {s} on {day.date()}") for s in candidates if s not in known
    ]
    if rows.empty:
        return DaySignals([], assessments)
    probs = model.proba(ds.store, rows)
    decisions = model.decide(probs, rows)
    planned = _signal_rows(
        decisions, ds, pd.Series({day: ctx.recommended_exposure}), CascadeConfig(l4=model.config)
    )
    by_symbol = {str(r["symbol"]): r for _, r in planned.iterrows()}
    barrier_regime = ds.barrier_regime.get(day)
    signals: list[NewSignal] = []
    for i, (_, symbol) in enumerate(rows.index):
        probabilities = {c: float(probs[i, k]) for k, c in enumerate(L4_CLASSES)}
        decision = pd.concat([decisions.iloc[i], rows.iloc[i][["atr_14_pct"]]])
        if symbol in by_symbol:
            close = float(rows.iloc[i]["close"])
            signals.append(_new_signal(by_symbol[symbol], decision, close, barrier_regime, ctx, model))
            assessments.append(Assessment(symbol, True, "signal emitted", probabilities))
            continue
        best = "long" if probabilities["long"] >= probabilities["short"] else "short"
        agree = float(decisions.iloc[i][f"agree_{best}"])
        reason = (
            f"no signal: P({best}) {probabilities[best]:.2f} (needs >= {model.config.min_probability:.2f}), "
            f"agreement {agree:.2f} (needs >= {model.config.min_agreement:.2f})"
        )
        assessments.append(Assessment(symbol, False, reason, probabilities))
    return DaySignals(signals, assessments)


def finite_or_none(value: float) -> float | None:
    return value if np.isfinite(value) else None
