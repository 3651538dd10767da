"""``GenerateSignals``: the kit's request flow around the model adapter.

The kit answers a retried run from ``layer_results`` before any inference; a new run's signals
get their ids in ``compute``, go into ``signals`` in the kit's storing transaction
(``finalize``) and are published as ``signals.v1`` "generated" from the same transaction, so a
run id yields each (run, symbol) signal once, even with two replicas answering the same run.
"""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from cp_common import topics
from cp_common.proto_enums import from_proto
from cp_layer_kit.analysis import Analysis, Call
from cp_layer_kit.results import Finalize, PendingResult
from cryptopredict.analysis.v1 import timing_pb2 as pb
from cryptopredict.common.v1 import analysis_pb2
from layer4_timing_service import events
from layer4_timing_service.api import views
from layer4_timing_service.metrics import SIGNALS_GENERATED
from layer4_timing_service.model_adapter import Assessment, DayContext, signals_for_day
from layer4_timing_service.storage import signals as store
from layer4_timing_service.storage.signals import SignalRecord


def day_context(call: Call) -> DayContext:
    context = call.request.context
    assets = l3_assets(call)
    return DayContext(
        cascade_run_id=call.request.cascade_run_id,
        regime=from_proto(analysis_pb2.Regime, context.regime, default="") or None,
        risk_level=from_proto(analysis_pb2.RiskLevel, context.risk_level, default="medium"),
        l3_scores={a.symbol: a.ai_score for a in assets},
        model_version=call.model.label,
        l3_selected=frozenset(a.symbol for a in assets if a.selected),
    )


def l3_assets(call: Call) -> list[analysis_pb2.AssetScore]:
    """Layer 3's scored assets of the day: every asset of the universe, its selection flagged
    (``symbols``, when given, restricts them)."""
    wanted = set(call.request.symbols)
    return [a for a in call.request.context.active_assets if not wanted or a.symbol in wanted]


def _assessment(a: Assessment) -> pb.CandidateAssessment:
    return pb.CandidateAssessment(
        symbol=a.symbol, emitted=a.emitted, reason=a.reason, probabilities=a.probabilities
    )


def _store(records: Sequence[SignalRecord]) -> Finalize:
    async def finalize(conn: asyncpg.Connection, pending: PendingResult) -> None:
        await store.insert_new(conn, records)

    return finalize


def count_generated(response: pb.GenerateSignalsResponse) -> None:
    """Count a first answer's signals (a replayed run generated nothing)."""
    if response.run.replayed:
        return
    for signal in response.signals:
        SIGNALS_GENERATED.labels("long" if signal.signal_type == 1 else "short").inc()


def compute(call: Call) -> Analysis:
    """The run's signals from the model, ready to be stored once."""
    ctx = day_context(call)
    result = call.timer.measure(signals_for_day, call.model.model, call.inputs.datasets, call.day, ctx)
    records = [store.with_id(s) for s in result.signals]
    response = pb.GenerateSignalsResponse(
        signals=[events.signal_message(r) for r in records],
        assessments=[_assessment(a) for a in result.assessments],
    )
    view = {
        "signals": [views.signal(r) for r in records],
        "assessments": [a.__dict__ for a in result.assessments],
    }
    return Analysis(
        response=response,
        view=view,
        events=[(topics.SIGNALS, [events.generated(r) for r in records])],
        finalize=_store(records),
    )
