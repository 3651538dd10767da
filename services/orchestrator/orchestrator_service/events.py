"""``cascade.runs.v1`` events (``CascadeRunUpdated``): one when a run starts, one when it ends."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from cp_common.proto_enums import to_proto
from cryptopredict.common.v1 import analysis_pb2 as common
from cryptopredict.events.v1 import cascade_pb2 as ev
from orchestrator_service.steps import FAILED, OK, REUSED, SKIPPED, STALE_FALLBACK

if TYPE_CHECKING:
    from orchestrator_service.cascade import RunState

TRIGGERS = {
    "schedule": ev.CASCADE_TRIGGER_SCHEDULE,
    "market_event": ev.CASCADE_TRIGGER_MARKET_EVENT,
    "manual": ev.CASCADE_TRIGGER_MANUAL,
}
STATUSES = {
    "running": ev.CASCADE_RUN_STATUS_RUNNING,
    "succeeded": ev.CASCADE_RUN_STATUS_SUCCEEDED,
    "degraded": ev.CASCADE_RUN_STATUS_DEGRADED,
    "failed": ev.CASCADE_RUN_STATUS_FAILED,
}
OUTCOMES = {
    OK: ev.LAYER_OUTCOME_OK,
    REUSED: ev.LAYER_OUTCOME_OK,
    STALE_FALLBACK: ev.LAYER_OUTCOME_STALE_FALLBACK,
    FAILED: ev.LAYER_OUTCOME_FAILED,
    SKIPPED: ev.LAYER_OUTCOME_SKIPPED,
}


def _base(state: RunState, status: str) -> ev.CascadeRunUpdated:
    event = ev.CascadeRunUpdated(
        run_id=state.request.run_id,
        status=STATUSES[status],
        trigger=TRIGGERS[state.request.trigger],
        symbols=state.symbols,
    )
    event.started_at.FromDatetime(state.started_at)
    return event


def run_started(state: RunState) -> ev.CascadeRunUpdated:
    return _base(state, "running")


def _last_context(state: RunState) -> common.AnalysisContext | None:
    response = state.response
    for section in (response.assets, response.sector, response.macro):
        if section.HasField("context"):
            return section.context
    return None


def run_finished(
    state: RunState, status: str, confidence: float | None, signals: int, error: str
) -> ev.CascadeRunUpdated:
    event = _base(state, status)
    event.finished_at.FromDatetime(datetime.now(UTC))
    for step in state.steps:
        event.layers.append(
            ev.LayerRun(
                layer=to_proto(common.Layer, step.layer.key),
                outcome=OUTCOMES[step.outcome],
                duration_seconds=step.duration_s,
                confidence=step.confidence or 0.0,
                error=step.error,
            )
        )
    event.cascade_confidence = confidence or 0.0
    context = _last_context(state)
    if context is not None:
        event.context.CopyFrom(context)
        event.context.cascade_run_id = state.request.run_id
        event.context.degraded = bool(state.degraded_layers)
        for step in state.steps:
            if step.model_version:
                event.context.model_versions[step.layer.key] = step.model_version
    event.signals_generated = signals
    event.error = error
    return event
