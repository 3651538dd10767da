import datetime

from cryptopredict.common.v1 import analysis_pb2 as _analysis_pb2
from cryptopredict.common.v1 import watchlists_pb2 as _watchlists_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class MacroRegimeAnalyzed(_message.Message):
    __slots__ = ("analysis_id", "regime", "confidence", "risk_level", "trend_strength", "recommended_exposure", "sentiment_breakdown", "drivers", "model_version", "analyzed_at", "cascade_run_id")
    ANALYSIS_ID_FIELD_NUMBER: _ClassVar[int]
    REGIME_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    RISK_LEVEL_FIELD_NUMBER: _ClassVar[int]
    TREND_STRENGTH_FIELD_NUMBER: _ClassVar[int]
    RECOMMENDED_EXPOSURE_FIELD_NUMBER: _ClassVar[int]
    SENTIMENT_BREAKDOWN_FIELD_NUMBER: _ClassVar[int]
    DRIVERS_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    ANALYZED_AT_FIELD_NUMBER: _ClassVar[int]
    CASCADE_RUN_ID_FIELD_NUMBER: _ClassVar[int]
    analysis_id: str
    regime: _analysis_pb2.Regime
    confidence: float
    risk_level: _analysis_pb2.RiskLevel
    trend_strength: float
    recommended_exposure: float
    sentiment_breakdown: _analysis_pb2.SentimentBreakdown
    drivers: _containers.RepeatedScalarFieldContainer[str]
    model_version: str
    analyzed_at: _timestamp_pb2.Timestamp
    cascade_run_id: str
    def __init__(self, analysis_id: _Optional[str] = ..., regime: _Optional[_Union[_analysis_pb2.Regime, str]] = ..., confidence: _Optional[float] = ..., risk_level: _Optional[_Union[_analysis_pb2.RiskLevel, str]] = ..., trend_strength: _Optional[float] = ..., recommended_exposure: _Optional[float] = ..., sentiment_breakdown: _Optional[_Union[_analysis_pb2.SentimentBreakdown, _Mapping]] = ..., drivers: _Optional[_Iterable[str]] = ..., model_version: _Optional[str] = ..., analyzed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., cascade_run_id: _Optional[str] = ...) -> None: ...

class SectorFlow(_message.Message):
    __slots__ = ("from_sector", "to_sector", "strength")
    FROM_SECTOR_FIELD_NUMBER: _ClassVar[int]
    TO_SECTOR_FIELD_NUMBER: _ClassVar[int]
    STRENGTH_FIELD_NUMBER: _ClassVar[int]
    from_sector: str
    to_sector: str
    strength: float
    def __init__(self, from_sector: _Optional[str] = ..., to_sector: _Optional[str] = ..., strength: _Optional[float] = ...) -> None: ...

class SectorRotationAnalyzed(_message.Message):
    __slots__ = ("analysis_id", "leading_sectors", "declining_sectors", "rotation_probability", "recommended_allocation", "momentum_scores", "flow_directions", "macro_regime", "confidence", "model_version", "analyzed_at", "cascade_run_id")
    class RecommendedAllocationEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    class MomentumScoresEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    ANALYSIS_ID_FIELD_NUMBER: _ClassVar[int]
    LEADING_SECTORS_FIELD_NUMBER: _ClassVar[int]
    DECLINING_SECTORS_FIELD_NUMBER: _ClassVar[int]
    ROTATION_PROBABILITY_FIELD_NUMBER: _ClassVar[int]
    RECOMMENDED_ALLOCATION_FIELD_NUMBER: _ClassVar[int]
    MOMENTUM_SCORES_FIELD_NUMBER: _ClassVar[int]
    FLOW_DIRECTIONS_FIELD_NUMBER: _ClassVar[int]
    MACRO_REGIME_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    ANALYZED_AT_FIELD_NUMBER: _ClassVar[int]
    CASCADE_RUN_ID_FIELD_NUMBER: _ClassVar[int]
    analysis_id: str
    leading_sectors: _containers.RepeatedScalarFieldContainer[str]
    declining_sectors: _containers.RepeatedScalarFieldContainer[str]
    rotation_probability: float
    recommended_allocation: _containers.ScalarMap[str, float]
    momentum_scores: _containers.ScalarMap[str, float]
    flow_directions: _containers.RepeatedCompositeFieldContainer[SectorFlow]
    macro_regime: _analysis_pb2.Regime
    confidence: float
    model_version: str
    analyzed_at: _timestamp_pb2.Timestamp
    cascade_run_id: str
    def __init__(self, analysis_id: _Optional[str] = ..., leading_sectors: _Optional[_Iterable[str]] = ..., declining_sectors: _Optional[_Iterable[str]] = ..., rotation_probability: _Optional[float] = ..., recommended_allocation: _Optional[_Mapping[str, float]] = ..., momentum_scores: _Optional[_Mapping[str, float]] = ..., flow_directions: _Optional[_Iterable[_Union[SectorFlow, _Mapping]]] = ..., macro_regime: _Optional[_Union[_analysis_pb2.Regime, str]] = ..., confidence: _Optional[float] = ..., model_version: _Optional[str] = ..., analyzed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., cascade_run_id: _Optional[str] = ...) -> None: ...

class AssetScored(_message.Message):
    __slots__ = ("analysis_id", "symbol", "tier", "ai_score", "confidence", "risk_level", "recommendation", "selected", "model_version", "analyzed_at", "cascade_run_id")
    ANALYSIS_ID_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    TIER_FIELD_NUMBER: _ClassVar[int]
    AI_SCORE_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    RISK_LEVEL_FIELD_NUMBER: _ClassVar[int]
    RECOMMENDATION_FIELD_NUMBER: _ClassVar[int]
    SELECTED_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    ANALYZED_AT_FIELD_NUMBER: _ClassVar[int]
    CASCADE_RUN_ID_FIELD_NUMBER: _ClassVar[int]
    analysis_id: str
    symbol: str
    tier: _watchlists_pb2.WatchlistTier
    ai_score: float
    confidence: float
    risk_level: _analysis_pb2.RiskLevel
    recommendation: str
    selected: bool
    model_version: str
    analyzed_at: _timestamp_pb2.Timestamp
    cascade_run_id: str
    def __init__(self, analysis_id: _Optional[str] = ..., symbol: _Optional[str] = ..., tier: _Optional[_Union[_watchlists_pb2.WatchlistTier, str]] = ..., ai_score: _Optional[float] = ..., confidence: _Optional[float] = ..., risk_level: _Optional[_Union[_analysis_pb2.RiskLevel, str]] = ..., recommendation: _Optional[str] = ..., selected: _Optional[bool] = ..., model_version: _Optional[str] = ..., analyzed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., cascade_run_id: _Optional[str] = ...) -> None: ...
