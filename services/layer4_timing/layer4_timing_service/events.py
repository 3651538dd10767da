"""Protobuf messages of the service: a stored signal as the contract's ``Signal``, and the
``signals.v1`` changes (generated, updated, closed) written to the outbox."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import asyncpg
from google.protobuf.struct_pb2 import Struct
from google.protobuf.timestamp_pb2 import Timestamp

from cp_common import topics
from cp_common.kafka.outbox import enqueue_many
from cp_common.proto_enums import to_proto
from cryptopredict.common.v1 import analysis_pb2, signals_pb2
from cryptopredict.events.v1 import signals_pb2 as events
from layer4_timing_service import SCHEMA
from layer4_timing_service.storage.signals import ACTIVE, SignalRecord

NAN = math.nan


def timestamp(value: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(value)
    return stamp


def _number(value: float | None) -> float:
    return NAN if value is None else float(value)


def _context(values: Mapping[str, Any]) -> Struct:
    struct = Struct()
    # Struct holds JSON values: numbers that are not finite have no JSON form.
    struct.update(
        {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in values.items()}
    )
    return struct


def _outcome(signal: SignalRecord) -> signals_pb2.SignalOutcome | None:
    if signal.status == ACTIVE:
        return None
    return signals_pb2.SignalOutcome(
        entry_fill_price=_number(signal.entry_fill_price),
        exit_price=_number(signal.exit_price),
        closed_at=timestamp(signal.closed_at) if signal.closed_at else None,
        gross_return=_number(signal.gross_return),
        net_return=_number(signal.net_return),
        bars_held=signal.bars_held or 0,
        reason=signal.close_reason or "",
    )


def signal_message(signal: SignalRecord) -> signals_pb2.Signal:
    regime = (
        to_proto(analysis_pb2.Regime, signal.market_regime)
        if signal.market_regime
        else analysis_pb2.REGIME_UNSPECIFIED
    )
    return signals_pb2.Signal(
        signal_id=str(signal.id),
        symbol=signal.symbol,
        signal_type=to_proto(signals_pb2.SignalType, signal.signal_type),
        status=to_proto(signals_pb2.SignalStatus, signal.status),
        entry_price=signal.entry_fill_price or signal.entry_price,
        target_price=signal.target_price,
        stop_loss=signal.stop_loss,
        confidence=_number(signal.confidence),
        risk_level=to_proto(analysis_pb2.RiskLevel, signal.risk_level),
        risk_reward_ratio=signal.risk_reward_ratio,
        position_size=signal.position_size,
        time_horizon_hours=signal.time_horizon_hours,
        generated_at=timestamp(signal.generated_at),
        expires_at=timestamp(signal.expires_at),
        ai_analysis=signal.ai_analysis,
        market_regime=regime,
        votes=[
            signals_pb2.SignalVote(
                voter=v.voter,
                action=to_proto(signals_pb2.VoteAction, v.action),
                confidence=v.confidence,
                weight=v.weight,
            )
            for v in signal.votes
        ],
        consensus_strength=_number(signal.agreement),
        model_version=signal.model_version,
        cascade_run_id=signal.cascade_run_id,
        market_context=_context(signal.market_context),
        outcome=_outcome(signal),
        probability=_number(signal.probability),
    )


def generated(signal: SignalRecord) -> events.SignalChanged:
    voters = sum(1 for v in signal.votes if v.action != "hold")
    return events.SignalChanged(
        signal=signal_message(signal), generated=events.SignalGenerated(participating_voters=voters)
    )


def updated(signal: SignalRecord, reason: str) -> events.SignalChanged:
    return events.SignalChanged(signal=signal_message(signal), updated=events.SignalUpdated(reason=reason))


def closed(signal: SignalRecord) -> events.SignalChanged:
    return events.SignalChanged(
        signal=signal_message(signal),
        closed=events.SignalClosed(
            final_status=to_proto(signals_pb2.SignalStatus, signal.status),
            exit_price=_number(signal.exit_price),
            closed_at=timestamp(signal.closed_at) if signal.closed_at else None,
            return_pct=_number(signal.net_return),
            reason=signal.close_reason or "",
        ),
    )


async def publish(conn: asyncpg.Connection, changes: Sequence[events.SignalChanged]) -> None:
    """Write the changes to the outbox inside the caller's transaction."""
    await enqueue_many(conn, topics.SIGNALS.name, list(changes), schema=SCHEMA)
