"""The request flow every layer RPC shares.

:func:`run_analysis`: validate the request -> a stored result for the cascade run answers at
once (``replayed``) -> the active model (else ``FAILED_PRECONDITION`` "Layer N model not
available") -> the decision day from the read model -> the layer's ``compute`` (its inference
timed into ``cp_layer_inference_seconds``) -> stored once and published once -> the answer,
with the model version and timings in its ``run`` (:class:`LayerRun`).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

import pandas as pd
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from cp_common.errors import BadRequest
from cp_common.topics import Topic
from cp_layer_kit.inputs import MarketInputs
from cp_layer_kit.metrics import ANALYSES, INFERENCE_SECONDS
from cp_layer_kit.model_holder import LoadedModel
from cp_layer_kit.results import Finalize, PendingResult, StoredResult, new_analysis_id
from cryptopredict.analysis.v1 import layer_pb2
from cryptopredict.common.v1 import analysis_pb2 as common_analysis

RUN_ID_PATTERN = re.compile(r"^[A-Za-z0-9._:-]{1,100}$")
SYMBOL_PATTERN = re.compile(r"^[A-Z0-9]{1,20}$")
MAX_SYMBOLS = 500
T = TypeVar("T")
R = TypeVar("R", bound=Message)


class LayerRequest(Protocol):
    """What every layer request message has (``AnalyzeMacroRequest`` ...)."""

    @property
    def context(self) -> common_analysis.AnalysisContext: ...

    @property
    def cascade_run_id(self) -> str: ...

    @property
    def symbols(self) -> Sequence[str]: ...

    def HasField(self, field_name: str) -> bool: ...


def check_symbols(symbols: Sequence[str], name: str) -> list[str]:
    if len(symbols) > MAX_SYMBOLS:
        raise BadRequest(f"{name}: at most {MAX_SYMBOLS} symbols")
    bad = [s for s in symbols if not SYMBOL_PATTERN.match(s)]
    if bad:
        raise BadRequest(f"{name}: symbols must be upper-case letters and digits, e.g. BTC")
    return list(dict.fromkeys(symbols))


@dataclass(frozen=True)
class AnalysisRequest:
    """A validated layer request."""

    cascade_run_id: str
    as_of: datetime | None
    context: common_analysis.AnalysisContext
    symbols: list[str]

    @classmethod
    def from_proto(cls, request: LayerRequest) -> AnalysisRequest:
        if not RUN_ID_PATTERN.match(request.cascade_run_id):
            raise BadRequest("cascade_run_id: required, 1..100 characters of A-Z a-z 0-9 . _ : -")
        as_of = getattr(request, "as_of")  # noqa: B009 - every layer request has it
        return cls(
            cascade_run_id=request.cascade_run_id,
            as_of=as_of.ToDatetime(tzinfo=UTC) if request.HasField("as_of") else None,
            context=request.context,
            symbols=check_symbols(request.symbols, "symbols"),
        )


class InferenceTimer:
    """Times the model calls of one analysis (the layer's share of the latency)."""

    def __init__(self, layer_key: str) -> None:
        self.layer_key = layer_key
        self.seconds = 0.0

    def measure(self, call: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        started = time.perf_counter()
        try:
            return call(*args, **kwargs)
        finally:
            self.seconds += time.perf_counter() - started


@dataclass(frozen=True)
class Call:
    """One analysis to compute: the request, the model, the market inputs and its day."""

    request: AnalysisRequest
    model: LoadedModel[Any]
    inputs: MarketInputs
    day: pd.Timestamp
    analysis_id: str
    timer: InferenceTimer


@dataclass
class Analysis:
    """What a layer's ``compute`` returns: the response (its ``run`` is filled by the kit), the
    REST view, the events, and an optional hook inside the storing transaction."""

    response: Message
    view: dict[str, Any]
    events: list[tuple[Topic, Sequence[Message]]] = field(default_factory=list)
    finalize: Finalize | None = None


Compute = Callable[[Call], Analysis]


class AnalysisHost(Protocol):
    """What :func:`run_analysis` needs from the kit (see :class:`cp_layer_kit.layer.LayerKit`)."""

    @property
    def layer_key(self) -> str: ...

    def require_model(self) -> LoadedModel[Any]: ...

    def require_inputs(self) -> MarketInputs: ...

    async def find_result(self, cascade_run_id: str) -> StoredResult | None: ...

    async def store_result(self, pending: PendingResult, finalize: Finalize | None) -> StoredResult: ...


def timestamp(value: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(value)
    return stamp


def answer(stored: StoredResult, response_type: type[R], started: float) -> R:
    """The stored response with this call's total time and whether it was replayed."""
    response = response_type.FromString(stored.response)
    run: layer_pb2.LayerRun = getattr(response, "run")  # noqa: B009 - every layer response has it
    run.total_ms = round((time.perf_counter() - started) * 1000, 3)
    run.replayed = stored.replayed
    return response


async def run_analysis(
    host: AnalysisHost, request: LayerRequest, response_type: type[R], compute: Compute
) -> R:
    started = time.perf_counter()
    parsed = AnalysisRequest.from_proto(request)
    stored = await host.find_result(parsed.cascade_run_id)
    if stored is None:
        try:
            model = host.require_model()
        except Exception:
            ANALYSES.labels(host.layer_key, "refused").inc()
            raise
        inputs = host.require_inputs()
        call = Call(
            parsed,
            model,
            inputs,
            inputs.day_for(parsed.as_of),
            new_analysis_id(),
            InferenceTimer(host.layer_key),
        )
        analysis = compute(call)
        INFERENCE_SECONDS.labels(host.layer_key).observe(call.timer.seconds)
        pending = _pending(call, analysis)
        stored = await host.store_result(pending, analysis.finalize)
    ANALYSES.labels(host.layer_key, "replayed" if stored.replayed else "stored").inc()
    return answer(stored, response_type, started)


def _pending(call: Call, analysis: Analysis) -> PendingResult:
    as_of = call.day.to_pydatetime()
    run: layer_pb2.LayerRun = getattr(analysis.response, "run")  # noqa: B009
    run.CopyFrom(
        layer_pb2.LayerRun(
            analysis_id=call.analysis_id,
            cascade_run_id=call.request.cascade_run_id,
            model_version=call.model.label,
            as_of=timestamp(as_of),
            analyzed_at=timestamp(datetime.now(UTC)),
            inference_ms=round(call.timer.seconds * 1000, 3),
        )
    )
    view = {
        **analysis.view,
        "model_version": call.model.label,
        "as_of": as_of.isoformat(),
        "last_updated": datetime.now(UTC).isoformat(),
    }
    return PendingResult(
        analysis_id=call.analysis_id,
        cascade_run_id=call.request.cascade_run_id,
        as_of=as_of,
        model_version=call.model.label,
        inference_ms=run.inference_ms,
        response=analysis.response,
        view=view,
        events=analysis.events,
    )
