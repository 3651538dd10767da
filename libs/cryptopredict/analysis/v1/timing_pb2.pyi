import datetime

from cryptopredict.analysis.v1 import layer_pb2 as _layer_pb2
from cryptopredict.common.v1 import analysis_pb2 as _analysis_pb2
from cryptopredict.common.v1 import signals_pb2 as _signals_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GenerateSignalsRequest(_message.Message):
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

class CandidateAssessment(_message.Message):
    __slots__ = ("symbol", "emitted", "reason", "probabilities")
    class ProbabilitiesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    EMITTED_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    PROBABILITIES_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    emitted: bool
    reason: str
    probabilities: _containers.ScalarMap[str, float]
    def __init__(self, symbol: _Optional[str] = ..., emitted: _Optional[bool] = ..., reason: _Optional[str] = ..., probabilities: _Optional[_Mapping[str, float]] = ...) -> None: ...

class GenerateSignalsResponse(_message.Message):
    __slots__ = ("signals", "assessments", "run")
    SIGNALS_FIELD_NUMBER: _ClassVar[int]
    ASSESSMENTS_FIELD_NUMBER: _ClassVar[int]
    RUN_FIELD_NUMBER: _ClassVar[int]
    signals: _containers.RepeatedCompositeFieldContainer[_signals_pb2.Signal]
    assessments: _containers.RepeatedCompositeFieldContainer[CandidateAssessment]
    run: _layer_pb2.LayerRun
    def __init__(self, signals: _Optional[_Iterable[_Union[_signals_pb2.Signal, _Mapping]]] = ..., assessments: _Optional[_Iterable[_Union[CandidateAssessment, _Mapping]]] = ..., run: _Optional[_Union[_layer_pb2.LayerRun, _Mapping]] = ...) -> None: ...

class GetSignalRequest(_message.Message):
    __slots__ = ("signal_id",)
    SIGNAL_ID_FIELD_NUMBER: _ClassVar[int]
    signal_id: str
    def __init__(self, signal_id: _Optional[str] = ...) -> None: ...

class GetSignalResponse(_message.Message):
    __slots__ = ("signal",)
    SIGNAL_FIELD_NUMBER: _ClassVar[int]
    signal: _signals_pb2.Signal
    def __init__(self, signal: _Optional[_Union[_signals_pb2.Signal, _Mapping]] = ...) -> None: ...

class ListSignalsRequest(_message.Message):
    __slots__ = ("status", "symbol", "limit")
    STATUS_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    status: _signals_pb2.SignalStatus
    symbol: str
    limit: int
    def __init__(self, status: _Optional[_Union[_signals_pb2.SignalStatus, str]] = ..., symbol: _Optional[str] = ..., limit: _Optional[int] = ...) -> None: ...

class ListSignalsResponse(_message.Message):
    __slots__ = ("signals",)
    SIGNALS_FIELD_NUMBER: _ClassVar[int]
    signals: _containers.RepeatedCompositeFieldContainer[_signals_pb2.Signal]
    def __init__(self, signals: _Optional[_Iterable[_Union[_signals_pb2.Signal, _Mapping]]] = ...) -> None: ...

class CancelSignalRequest(_message.Message):
    __slots__ = ("signal_id", "reason")
    SIGNAL_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    signal_id: str
    reason: str
    def __init__(self, signal_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class CancelSignalResponse(_message.Message):
    __slots__ = ("signal",)
    SIGNAL_FIELD_NUMBER: _ClassVar[int]
    signal: _signals_pb2.Signal
    def __init__(self, signal: _Optional[_Union[_signals_pb2.Signal, _Mapping]] = ...) -> None: ...

class GetPerformanceSummaryRequest(_message.Message):
    __slots__ = ("days",)
    DAYS_FIELD_NUMBER: _ClassVar[int]
    days: int
    def __init__(self, days: _Optional[int] = ...) -> None: ...

class GetPerformanceSummaryResponse(_message.Message):
    __slots__ = ("period_days", "since", "until", "generated", "open", "closed_by_outcome", "trades", "wins", "win_rate", "average_return", "total_return", "profit_factor")
    class ClosedByOutcomeEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    PERIOD_DAYS_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    UNTIL_FIELD_NUMBER: _ClassVar[int]
    GENERATED_FIELD_NUMBER: _ClassVar[int]
    OPEN_FIELD_NUMBER: _ClassVar[int]
    CLOSED_BY_OUTCOME_FIELD_NUMBER: _ClassVar[int]
    TRADES_FIELD_NUMBER: _ClassVar[int]
    WINS_FIELD_NUMBER: _ClassVar[int]
    WIN_RATE_FIELD_NUMBER: _ClassVar[int]
    AVERAGE_RETURN_FIELD_NUMBER: _ClassVar[int]
    TOTAL_RETURN_FIELD_NUMBER: _ClassVar[int]
    PROFIT_FACTOR_FIELD_NUMBER: _ClassVar[int]
    period_days: int
    since: _timestamp_pb2.Timestamp
    until: _timestamp_pb2.Timestamp
    generated: int
    open: int
    closed_by_outcome: _containers.ScalarMap[str, int]
    trades: int
    wins: int
    win_rate: float
    average_return: float
    total_return: float
    profit_factor: float
    def __init__(self, period_days: _Optional[int] = ..., since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., until: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., generated: _Optional[int] = ..., open: _Optional[int] = ..., closed_by_outcome: _Optional[_Mapping[str, int]] = ..., trades: _Optional[int] = ..., wins: _Optional[int] = ..., win_rate: _Optional[float] = ..., average_return: _Optional[float] = ..., total_return: _Optional[float] = ..., profit_factor: _Optional[float] = ...) -> None: ...
