import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class LayerRun(_message.Message):
    __slots__ = ("analysis_id", "cascade_run_id", "model_version", "as_of", "analyzed_at", "inference_ms", "total_ms", "replayed")
    ANALYSIS_ID_FIELD_NUMBER: _ClassVar[int]
    CASCADE_RUN_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    AS_OF_FIELD_NUMBER: _ClassVar[int]
    ANALYZED_AT_FIELD_NUMBER: _ClassVar[int]
    INFERENCE_MS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_MS_FIELD_NUMBER: _ClassVar[int]
    REPLAYED_FIELD_NUMBER: _ClassVar[int]
    analysis_id: str
    cascade_run_id: str
    model_version: str
    as_of: _timestamp_pb2.Timestamp
    analyzed_at: _timestamp_pb2.Timestamp
    inference_ms: float
    total_ms: float
    replayed: bool
    def __init__(self, analysis_id: _Optional[str] = ..., cascade_run_id: _Optional[str] = ..., model_version: _Optional[str] = ..., as_of: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., analyzed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., inference_ms: _Optional[float] = ..., total_ms: _Optional[float] = ..., replayed: _Optional[bool] = ...) -> None: ...

class Driver(_message.Message):
    __slots__ = ("feature", "value", "contribution", "effect")
    FEATURE_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    CONTRIBUTION_FIELD_NUMBER: _ClassVar[int]
    EFFECT_FIELD_NUMBER: _ClassVar[int]
    feature: str
    value: float
    contribution: float
    effect: str
    def __init__(self, feature: _Optional[str] = ..., value: _Optional[float] = ..., contribution: _Optional[float] = ..., effect: _Optional[str] = ...) -> None: ...
