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

class AnalyzeMacroRequest(_message.Message):
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

class MacroSentiment(_message.Message):
    __slots__ = ("fear_greed", "fear_greed_label", "fear_greed_change_7d", "btc_dominance", "btc_dominance_change_30d")
    FEAR_GREED_FIELD_NUMBER: _ClassVar[int]
    FEAR_GREED_LABEL_FIELD_NUMBER: _ClassVar[int]
    FEAR_GREED_CHANGE_7D_FIELD_NUMBER: _ClassVar[int]
    BTC_DOMINANCE_FIELD_NUMBER: _ClassVar[int]
    BTC_DOMINANCE_CHANGE_30D_FIELD_NUMBER: _ClassVar[int]
    fear_greed: float
    fear_greed_label: str
    fear_greed_change_7d: float
    btc_dominance: float
    btc_dominance_change_30d: float
    def __init__(self, fear_greed: _Optional[float] = ..., fear_greed_label: _Optional[str] = ..., fear_greed_change_7d: _Optional[float] = ..., btc_dominance: _Optional[float] = ..., btc_dominance_change_30d: _Optional[float] = ...) -> None: ...

class MacroAnalysis(_message.Message):
    __slots__ = ("regime", "confidence", "probabilities", "risk_level", "risk_score", "trend_strength", "recommended_exposure", "current_state", "sentiment", "drivers")
    class ProbabilitiesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    REGIME_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    PROBABILITIES_FIELD_NUMBER: _ClassVar[int]
    RISK_LEVEL_FIELD_NUMBER: _ClassVar[int]
    RISK_SCORE_FIELD_NUMBER: _ClassVar[int]
    TREND_STRENGTH_FIELD_NUMBER: _ClassVar[int]
    RECOMMENDED_EXPOSURE_FIELD_NUMBER: _ClassVar[int]
    CURRENT_STATE_FIELD_NUMBER: _ClassVar[int]
    SENTIMENT_FIELD_NUMBER: _ClassVar[int]
    DRIVERS_FIELD_NUMBER: _ClassVar[int]
    regime: _analysis_pb2.Regime
    confidence: float
    probabilities: _containers.ScalarMap[str, float]
    risk_level: _analysis_pb2.RiskLevel
    risk_score: float
    trend_strength: float
    recommended_exposure: float
    current_state: str
    sentiment: MacroSentiment
    drivers: _containers.RepeatedCompositeFieldContainer[_layer_pb2.Driver]
    def __init__(self, regime: _Optional[_Union[_analysis_pb2.Regime, str]] = ..., confidence: _Optional[float] = ..., probabilities: _Optional[_Mapping[str, float]] = ..., risk_level: _Optional[_Union[_analysis_pb2.RiskLevel, str]] = ..., risk_score: _Optional[float] = ..., trend_strength: _Optional[float] = ..., recommended_exposure: _Optional[float] = ..., current_state: _Optional[str] = ..., sentiment: _Optional[_Union[MacroSentiment, _Mapping]] = ..., drivers: _Optional[_Iterable[_Union[_layer_pb2.Driver, _Mapping]]] = ...) -> None: ...

class AnalyzeMacroResponse(_message.Message):
    __slots__ = ("analysis", "context", "run")
    ANALYSIS_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_FIELD_NUMBER: _ClassVar[int]
    RUN_FIELD_NUMBER: _ClassVar[int]
    analysis: MacroAnalysis
    context: _analysis_pb2.AnalysisContext
    run: _layer_pb2.LayerRun
    def __init__(self, analysis: _Optional[_Union[MacroAnalysis, _Mapping]] = ..., context: _Optional[_Union[_analysis_pb2.AnalysisContext, _Mapping]] = ..., run: _Optional[_Union[_layer_pb2.LayerRun, _Mapping]] = ...) -> None: ...
