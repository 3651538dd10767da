import datetime

from cryptopredict.common.v1 import watchlists_pb2 as _watchlists_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Regime(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    REGIME_UNSPECIFIED: _ClassVar[Regime]
    REGIME_BULL: _ClassVar[Regime]
    REGIME_BEAR: _ClassVar[Regime]
    REGIME_SIDEWAYS: _ClassVar[Regime]
    REGIME_VOLATILE: _ClassVar[Regime]

class RiskLevel(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RISK_LEVEL_UNSPECIFIED: _ClassVar[RiskLevel]
    RISK_LEVEL_LOW: _ClassVar[RiskLevel]
    RISK_LEVEL_MEDIUM: _ClassVar[RiskLevel]
    RISK_LEVEL_HIGH: _ClassVar[RiskLevel]
    RISK_LEVEL_EXTREME: _ClassVar[RiskLevel]

class Layer(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LAYER_UNSPECIFIED: _ClassVar[Layer]
    LAYER_MACRO: _ClassVar[Layer]
    LAYER_SECTOR: _ClassVar[Layer]
    LAYER_ASSET: _ClassVar[Layer]
    LAYER_TIMING: _ClassVar[Layer]

class ModelStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MODEL_STATUS_UNSPECIFIED: _ClassVar[ModelStatus]
    MODEL_STATUS_ACTIVE: _ClassVar[ModelStatus]
    MODEL_STATUS_TRAINING: _ClassVar[ModelStatus]
    MODEL_STATUS_INACTIVE: _ClassVar[ModelStatus]
    MODEL_STATUS_ERROR: _ClassVar[ModelStatus]
REGIME_UNSPECIFIED: Regime
REGIME_BULL: Regime
REGIME_BEAR: Regime
REGIME_SIDEWAYS: Regime
REGIME_VOLATILE: Regime
RISK_LEVEL_UNSPECIFIED: RiskLevel
RISK_LEVEL_LOW: RiskLevel
RISK_LEVEL_MEDIUM: RiskLevel
RISK_LEVEL_HIGH: RiskLevel
RISK_LEVEL_EXTREME: RiskLevel
LAYER_UNSPECIFIED: Layer
LAYER_MACRO: Layer
LAYER_SECTOR: Layer
LAYER_ASSET: Layer
LAYER_TIMING: Layer
MODEL_STATUS_UNSPECIFIED: ModelStatus
MODEL_STATUS_ACTIVE: ModelStatus
MODEL_STATUS_TRAINING: ModelStatus
MODEL_STATUS_INACTIVE: ModelStatus
MODEL_STATUS_ERROR: ModelStatus

class SentimentBreakdown(_message.Message):
    __slots__ = ("fear_greed", "social", "news", "funding")
    FEAR_GREED_FIELD_NUMBER: _ClassVar[int]
    SOCIAL_FIELD_NUMBER: _ClassVar[int]
    NEWS_FIELD_NUMBER: _ClassVar[int]
    FUNDING_FIELD_NUMBER: _ClassVar[int]
    fear_greed: float
    social: float
    news: float
    funding: float
    def __init__(self, fear_greed: _Optional[float] = ..., social: _Optional[float] = ..., news: _Optional[float] = ..., funding: _Optional[float] = ...) -> None: ...

class AssetScore(_message.Message):
    __slots__ = ("symbol", "ai_score", "confidence", "risk_level", "recommendation", "tier", "selected")
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    AI_SCORE_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    RISK_LEVEL_FIELD_NUMBER: _ClassVar[int]
    RECOMMENDATION_FIELD_NUMBER: _ClassVar[int]
    TIER_FIELD_NUMBER: _ClassVar[int]
    SELECTED_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    ai_score: float
    confidence: float
    risk_level: RiskLevel
    recommendation: str
    tier: _watchlists_pb2.WatchlistTier
    selected: bool
    def __init__(self, symbol: _Optional[str] = ..., ai_score: _Optional[float] = ..., confidence: _Optional[float] = ..., risk_level: _Optional[_Union[RiskLevel, str]] = ..., recommendation: _Optional[str] = ..., tier: _Optional[_Union[_watchlists_pb2.WatchlistTier, str]] = ..., selected: _Optional[bool] = ...) -> None: ...

class AnalysisContext(_message.Message):
    __slots__ = ("regime", "regime_confidence", "risk_level", "sector_allocation", "active_assets", "as_of", "degraded", "cascade_run_id", "recommended_exposure", "leading_sectors", "declining_sectors", "model_versions")
    class SectorAllocationEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    class ModelVersionsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    REGIME_FIELD_NUMBER: _ClassVar[int]
    REGIME_CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    RISK_LEVEL_FIELD_NUMBER: _ClassVar[int]
    SECTOR_ALLOCATION_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_ASSETS_FIELD_NUMBER: _ClassVar[int]
    AS_OF_FIELD_NUMBER: _ClassVar[int]
    DEGRADED_FIELD_NUMBER: _ClassVar[int]
    CASCADE_RUN_ID_FIELD_NUMBER: _ClassVar[int]
    RECOMMENDED_EXPOSURE_FIELD_NUMBER: _ClassVar[int]
    LEADING_SECTORS_FIELD_NUMBER: _ClassVar[int]
    DECLINING_SECTORS_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSIONS_FIELD_NUMBER: _ClassVar[int]
    regime: Regime
    regime_confidence: float
    risk_level: RiskLevel
    sector_allocation: _containers.ScalarMap[str, float]
    active_assets: _containers.RepeatedCompositeFieldContainer[AssetScore]
    as_of: _timestamp_pb2.Timestamp
    degraded: bool
    cascade_run_id: str
    recommended_exposure: float
    leading_sectors: _containers.RepeatedScalarFieldContainer[str]
    declining_sectors: _containers.RepeatedScalarFieldContainer[str]
    model_versions: _containers.ScalarMap[str, str]
    def __init__(self, regime: _Optional[_Union[Regime, str]] = ..., regime_confidence: _Optional[float] = ..., risk_level: _Optional[_Union[RiskLevel, str]] = ..., sector_allocation: _Optional[_Mapping[str, float]] = ..., active_assets: _Optional[_Iterable[_Union[AssetScore, _Mapping]]] = ..., as_of: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., degraded: _Optional[bool] = ..., cascade_run_id: _Optional[str] = ..., recommended_exposure: _Optional[float] = ..., leading_sectors: _Optional[_Iterable[str]] = ..., declining_sectors: _Optional[_Iterable[str]] = ..., model_versions: _Optional[_Mapping[str, str]] = ...) -> None: ...
