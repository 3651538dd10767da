import datetime

from cryptopredict.analysis.v1 import layer_pb2 as _layer_pb2
from cryptopredict.common.v1 import analysis_pb2 as _analysis_pb2
from cryptopredict.common.v1 import watchlists_pb2 as _watchlists_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SelectAssetsRequest(_message.Message):
    __slots__ = ("context", "as_of", "cascade_run_id", "symbols", "tier1_symbols", "tier2_symbols")
    CONTEXT_FIELD_NUMBER: _ClassVar[int]
    AS_OF_FIELD_NUMBER: _ClassVar[int]
    CASCADE_RUN_ID_FIELD_NUMBER: _ClassVar[int]
    SYMBOLS_FIELD_NUMBER: _ClassVar[int]
    TIER1_SYMBOLS_FIELD_NUMBER: _ClassVar[int]
    TIER2_SYMBOLS_FIELD_NUMBER: _ClassVar[int]
    context: _analysis_pb2.AnalysisContext
    as_of: _timestamp_pb2.Timestamp
    cascade_run_id: str
    symbols: _containers.RepeatedScalarFieldContainer[str]
    tier1_symbols: _containers.RepeatedScalarFieldContainer[str]
    tier2_symbols: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, context: _Optional[_Union[_analysis_pb2.AnalysisContext, _Mapping]] = ..., as_of: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., cascade_run_id: _Optional[str] = ..., symbols: _Optional[_Iterable[str]] = ..., tier1_symbols: _Optional[_Iterable[str]] = ..., tier2_symbols: _Optional[_Iterable[str]] = ...) -> None: ...

class AssetAssessment(_message.Message):
    __slots__ = ("symbol", "tier", "sector", "score", "light_score", "risk_level", "recommendation", "features", "reason")
    class FeaturesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    TIER_FIELD_NUMBER: _ClassVar[int]
    SECTOR_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    LIGHT_SCORE_FIELD_NUMBER: _ClassVar[int]
    RISK_LEVEL_FIELD_NUMBER: _ClassVar[int]
    RECOMMENDATION_FIELD_NUMBER: _ClassVar[int]
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    tier: _watchlists_pb2.WatchlistTier
    sector: str
    score: float
    light_score: float
    risk_level: _analysis_pb2.RiskLevel
    recommendation: str
    features: _containers.ScalarMap[str, float]
    reason: str
    def __init__(self, symbol: _Optional[str] = ..., tier: _Optional[_Union[_watchlists_pb2.WatchlistTier, str]] = ..., sector: _Optional[str] = ..., score: _Optional[float] = ..., light_score: _Optional[float] = ..., risk_level: _Optional[_Union[_analysis_pb2.RiskLevel, str]] = ..., recommendation: _Optional[str] = ..., features: _Optional[_Mapping[str, float]] = ..., reason: _Optional[str] = ...) -> None: ...

class WatchlistSuggestion(_message.Message):
    __slots__ = ("suggestion_id", "symbol", "suggestion_type", "confidence", "reasoning", "supporting_data", "published")
    class SupportingDataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    SUGGESTION_ID_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    SUGGESTION_TYPE_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    REASONING_FIELD_NUMBER: _ClassVar[int]
    SUPPORTING_DATA_FIELD_NUMBER: _ClassVar[int]
    PUBLISHED_FIELD_NUMBER: _ClassVar[int]
    suggestion_id: str
    symbol: str
    suggestion_type: _watchlists_pb2.SuggestionType
    confidence: float
    reasoning: str
    supporting_data: _containers.ScalarMap[str, float]
    published: bool
    def __init__(self, suggestion_id: _Optional[str] = ..., symbol: _Optional[str] = ..., suggestion_type: _Optional[_Union[_watchlists_pb2.SuggestionType, str]] = ..., confidence: _Optional[float] = ..., reasoning: _Optional[str] = ..., supporting_data: _Optional[_Mapping[str, float]] = ..., published: _Optional[bool] = ...) -> None: ...

class AssetAnalysis(_message.Message):
    __slots__ = ("tier1", "tier2", "suggestions", "selected")
    TIER1_FIELD_NUMBER: _ClassVar[int]
    TIER2_FIELD_NUMBER: _ClassVar[int]
    SUGGESTIONS_FIELD_NUMBER: _ClassVar[int]
    SELECTED_FIELD_NUMBER: _ClassVar[int]
    tier1: _containers.RepeatedCompositeFieldContainer[AssetAssessment]
    tier2: _containers.RepeatedCompositeFieldContainer[AssetAssessment]
    suggestions: _containers.RepeatedCompositeFieldContainer[WatchlistSuggestion]
    selected: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, tier1: _Optional[_Iterable[_Union[AssetAssessment, _Mapping]]] = ..., tier2: _Optional[_Iterable[_Union[AssetAssessment, _Mapping]]] = ..., suggestions: _Optional[_Iterable[_Union[WatchlistSuggestion, _Mapping]]] = ..., selected: _Optional[_Iterable[str]] = ...) -> None: ...

class SelectAssetsResponse(_message.Message):
    __slots__ = ("analysis", "context", "run")
    ANALYSIS_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_FIELD_NUMBER: _ClassVar[int]
    RUN_FIELD_NUMBER: _ClassVar[int]
    analysis: AssetAnalysis
    context: _analysis_pb2.AnalysisContext
    run: _layer_pb2.LayerRun
    def __init__(self, analysis: _Optional[_Union[AssetAnalysis, _Mapping]] = ..., context: _Optional[_Union[_analysis_pb2.AnalysisContext, _Mapping]] = ..., run: _Optional[_Union[_layer_pb2.LayerRun, _Mapping]] = ...) -> None: ...
