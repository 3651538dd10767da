import datetime

from cryptopredict.common.v1 import analysis_pb2 as _analysis_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CascadeRunStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CASCADE_RUN_STATUS_UNSPECIFIED: _ClassVar[CascadeRunStatus]
    CASCADE_RUN_STATUS_RUNNING: _ClassVar[CascadeRunStatus]
    CASCADE_RUN_STATUS_SUCCEEDED: _ClassVar[CascadeRunStatus]
    CASCADE_RUN_STATUS_DEGRADED: _ClassVar[CascadeRunStatus]
    CASCADE_RUN_STATUS_FAILED: _ClassVar[CascadeRunStatus]

class CascadeTrigger(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CASCADE_TRIGGER_UNSPECIFIED: _ClassVar[CascadeTrigger]
    CASCADE_TRIGGER_SCHEDULE: _ClassVar[CascadeTrigger]
    CASCADE_TRIGGER_MARKET_EVENT: _ClassVar[CascadeTrigger]
    CASCADE_TRIGGER_MANUAL: _ClassVar[CascadeTrigger]

class LayerOutcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LAYER_OUTCOME_UNSPECIFIED: _ClassVar[LayerOutcome]
    LAYER_OUTCOME_OK: _ClassVar[LayerOutcome]
    LAYER_OUTCOME_STALE_FALLBACK: _ClassVar[LayerOutcome]
    LAYER_OUTCOME_FAILED: _ClassVar[LayerOutcome]
    LAYER_OUTCOME_SKIPPED: _ClassVar[LayerOutcome]
CASCADE_RUN_STATUS_UNSPECIFIED: CascadeRunStatus
CASCADE_RUN_STATUS_RUNNING: CascadeRunStatus
CASCADE_RUN_STATUS_SUCCEEDED: CascadeRunStatus
CASCADE_RUN_STATUS_DEGRADED: CascadeRunStatus
CASCADE_RUN_STATUS_FAILED: CascadeRunStatus
CASCADE_TRIGGER_UNSPECIFIED: CascadeTrigger
CASCADE_TRIGGER_SCHEDULE: CascadeTrigger
CASCADE_TRIGGER_MARKET_EVENT: CascadeTrigger
CASCADE_TRIGGER_MANUAL: CascadeTrigger
LAYER_OUTCOME_UNSPECIFIED: LayerOutcome
LAYER_OUTCOME_OK: LayerOutcome
LAYER_OUTCOME_STALE_FALLBACK: LayerOutcome
LAYER_OUTCOME_FAILED: LayerOutcome
LAYER_OUTCOME_SKIPPED: LayerOutcome

class LayerRun(_message.Message):
    __slots__ = ("layer", "outcome", "duration_seconds", "confidence", "error")
    LAYER_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    DURATION_SECONDS_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    layer: _analysis_pb2.Layer
    outcome: LayerOutcome
    duration_seconds: float
    confidence: float
    error: str
    def __init__(self, layer: _Optional[_Union[_analysis_pb2.Layer, str]] = ..., outcome: _Optional[_Union[LayerOutcome, str]] = ..., duration_seconds: _Optional[float] = ..., confidence: _Optional[float] = ..., error: _Optional[str] = ...) -> None: ...

class CascadeRunUpdated(_message.Message):
    __slots__ = ("run_id", "status", "trigger", "symbols", "started_at", "finished_at", "layers", "cascade_confidence", "context", "signals_generated", "suggestions_created", "error")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    TRIGGER_FIELD_NUMBER: _ClassVar[int]
    SYMBOLS_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    FINISHED_AT_FIELD_NUMBER: _ClassVar[int]
    LAYERS_FIELD_NUMBER: _ClassVar[int]
    CASCADE_CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_FIELD_NUMBER: _ClassVar[int]
    SIGNALS_GENERATED_FIELD_NUMBER: _ClassVar[int]
    SUGGESTIONS_CREATED_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    status: CascadeRunStatus
    trigger: CascadeTrigger
    symbols: _containers.RepeatedScalarFieldContainer[str]
    started_at: _timestamp_pb2.Timestamp
    finished_at: _timestamp_pb2.Timestamp
    layers: _containers.RepeatedCompositeFieldContainer[LayerRun]
    cascade_confidence: float
    context: _analysis_pb2.AnalysisContext
    signals_generated: int
    suggestions_created: int
    error: str
    def __init__(self, run_id: _Optional[str] = ..., status: _Optional[_Union[CascadeRunStatus, str]] = ..., trigger: _Optional[_Union[CascadeTrigger, str]] = ..., symbols: _Optional[_Iterable[str]] = ..., started_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., finished_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., layers: _Optional[_Iterable[_Union[LayerRun, _Mapping]]] = ..., cascade_confidence: _Optional[float] = ..., context: _Optional[_Union[_analysis_pb2.AnalysisContext, _Mapping]] = ..., signals_generated: _Optional[int] = ..., suggestions_created: _Optional[int] = ..., error: _Optional[str] = ...) -> None: ...
