import datetime

from cryptopredict.analysis.v1 import layer_pb2 as _layer_pb2
from cryptopredict.common.v1 import analysis_pb2 as _analysis_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AnalyzeSectorsRequest(_message.Message):
    __slots__ = ("context", "as_of", "cascade_run_id", "symbols")
    CONTEXT_FIELD_NUMBER: _ClassVar[int]
    AS_OF_FIELD_NUMBER: _ClassVar[int]
    CASCADE_RUN_ID_FIELD_NUMBER: _ClassVar[int]
    SYMBOLS_FIELD_NUMBER: _ClassVar[int]
    context: _analysis_pb2.AnalysisContext
    as_of: _timestamp_pb2.Timestamp
    cascade_run_id: str
    symbols: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, context: _Optional[_Union[_analysis_pb2.AnalysisContext, _Mapping]] = ..., as_of: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., cascade_run_id: _Optional[str] = ..., symbols: _Optional[_Iterable[str]] = ...) -> None: ...

class SectorScore(_message.Message):
    __slots__ = ("sector", "momentum_score", "relative_strength", "flow")
    SECTOR_FIELD_NUMBER: _ClassVar[int]
    MOMENTUM_SCORE_FIELD_NUMBER: _ClassVar[int]
    RELATIVE_STRENGTH_FIELD_NUMBER: _ClassVar[int]
    FLOW_FIELD_NUMBER: _ClassVar[int]
    sector: str
    momentum_score: float
    relative_strength: float
    flow: str
    def __init__(self, sector: _Optional[str] = ..., momentum_score: _Optional[float] = ..., relative_strength: _Optional[float] = ..., flow: _Optional[str] = ...) -> None: ...

class SectorAnalysis(_message.Message):
    __slots__ = ("sectors", "leading_sectors", "declining_sectors", "rotation_probability", "recommended_allocation", "macro_regime")
    class RecommendedAllocationEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    SECTORS_FIELD_NUMBER: _ClassVar[int]
    LEADING_SECTORS_FIELD_NUMBER: _ClassVar[int]
    DECLINING_SECTORS_FIELD_NUMBER: _ClassVar[int]
    ROTATION_PROBABILITY_FIELD_NUMBER: _ClassVar[int]
    RECOMMENDED_ALLOCATION_FIELD_NUMBER: _ClassVar[int]
    MACRO_REGIME_FIELD_NUMBER: _ClassVar[int]
    sectors: _containers.RepeatedCompositeFieldContainer[SectorScore]
    leading_sectors: _containers.RepeatedScalarFieldContainer[str]
    declining_sectors: _containers.RepeatedScalarFieldContainer[str]
    rotation_probability: float
    recommended_allocation: _containers.ScalarMap[str, float]
    macro_regime: str
    def __init__(self, sectors: _Optional[_Iterable[_Union[SectorScore, _Mapping]]] = ..., leading_sectors: _Optional[_Iterable[str]] = ..., declining_sectors: _Optional[_Iterable[str]] = ..., rotation_probability: _Optional[float] = ..., recommended_allocation: _Optional[_Mapping[str, float]] = ..., macro_regime: _Optional[str] = ...) -> None: ...

class AnalyzeSectorsResponse(_message.Message):
    __slots__ = ("analysis", "context", "run")
    ANALYSIS_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_FIELD_NUMBER: _ClassVar[int]
    RUN_FIELD_NUMBER: _ClassVar[int]
    analysis: SectorAnalysis
    context: _analysis_pb2.AnalysisContext
    run: _layer_pb2.LayerRun
    def __init__(self, analysis: _Optional[_Union[SectorAnalysis, _Mapping]] = ..., context: _Optional[_Union[_analysis_pb2.AnalysisContext, _Mapping]] = ..., run: _Optional[_Union[_layer_pb2.LayerRun, _Mapping]] = ...) -> None: ...
