import datetime

from cryptopredict.common.v1 import analysis_pb2 as _analysis_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SignalType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SIGNAL_TYPE_UNSPECIFIED: _ClassVar[SignalType]
    SIGNAL_TYPE_LONG: _ClassVar[SignalType]
    SIGNAL_TYPE_SHORT: _ClassVar[SignalType]

class SignalStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SIGNAL_STATUS_UNSPECIFIED: _ClassVar[SignalStatus]
    SIGNAL_STATUS_ACTIVE: _ClassVar[SignalStatus]
    SIGNAL_STATUS_TARGET_HIT: _ClassVar[SignalStatus]
    SIGNAL_STATUS_STOPPED_OUT: _ClassVar[SignalStatus]
    SIGNAL_STATUS_EXPIRED: _ClassVar[SignalStatus]
    SIGNAL_STATUS_CANCELLED: _ClassVar[SignalStatus]

class VoteAction(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    VOTE_ACTION_UNSPECIFIED: _ClassVar[VoteAction]
    VOTE_ACTION_LONG: _ClassVar[VoteAction]
    VOTE_ACTION_SHORT: _ClassVar[VoteAction]
    VOTE_ACTION_HOLD: _ClassVar[VoteAction]
SIGNAL_TYPE_UNSPECIFIED: SignalType
SIGNAL_TYPE_LONG: SignalType
SIGNAL_TYPE_SHORT: SignalType
SIGNAL_STATUS_UNSPECIFIED: SignalStatus
SIGNAL_STATUS_ACTIVE: SignalStatus
SIGNAL_STATUS_TARGET_HIT: SignalStatus
SIGNAL_STATUS_STOPPED_OUT: SignalStatus
SIGNAL_STATUS_EXPIRED: SignalStatus
SIGNAL_STATUS_CANCELLED: SignalStatus
VOTE_ACTION_UNSPECIFIED: VoteAction
VOTE_ACTION_LONG: VoteAction
VOTE_ACTION_SHORT: VoteAction
VOTE_ACTION_HOLD: VoteAction

class SignalVote(_message.Message):
    __slots__ = ("voter", "action", "confidence", "weight")
    VOTER_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    WEIGHT_FIELD_NUMBER: _ClassVar[int]
    voter: str
    action: VoteAction
    confidence: float
    weight: float
    def __init__(self, voter: _Optional[str] = ..., action: _Optional[_Union[VoteAction, str]] = ..., confidence: _Optional[float] = ..., weight: _Optional[float] = ...) -> None: ...

class Signal(_message.Message):
    __slots__ = ("signal_id", "symbol", "signal_type", "status", "entry_price", "target_price", "stop_loss", "confidence", "risk_level", "risk_reward_ratio", "position_size", "time_horizon_hours", "generated_at", "expires_at", "ai_analysis", "market_regime", "votes", "consensus_strength", "model_version", "cascade_run_id", "market_context", "outcome", "probability")
    SIGNAL_ID_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    SIGNAL_TYPE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ENTRY_PRICE_FIELD_NUMBER: _ClassVar[int]
    TARGET_PRICE_FIELD_NUMBER: _ClassVar[int]
    STOP_LOSS_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    RISK_LEVEL_FIELD_NUMBER: _ClassVar[int]
    RISK_REWARD_RATIO_FIELD_NUMBER: _ClassVar[int]
    POSITION_SIZE_FIELD_NUMBER: _ClassVar[int]
    TIME_HORIZON_HOURS_FIELD_NUMBER: _ClassVar[int]
    GENERATED_AT_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    AI_ANALYSIS_FIELD_NUMBER: _ClassVar[int]
    MARKET_REGIME_FIELD_NUMBER: _ClassVar[int]
    VOTES_FIELD_NUMBER: _ClassVar[int]
    CONSENSUS_STRENGTH_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    CASCADE_RUN_ID_FIELD_NUMBER: _ClassVar[int]
    MARKET_CONTEXT_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    PROBABILITY_FIELD_NUMBER: _ClassVar[int]
    signal_id: str
    symbol: str
    signal_type: SignalType
    status: SignalStatus
    entry_price: float
    target_price: float
    stop_loss: float
    confidence: float
    risk_level: _analysis_pb2.RiskLevel
    risk_reward_ratio: float
    position_size: float
    time_horizon_hours: int
    generated_at: _timestamp_pb2.Timestamp
    expires_at: _timestamp_pb2.Timestamp
    ai_analysis: str
    market_regime: _analysis_pb2.Regime
    votes: _containers.RepeatedCompositeFieldContainer[SignalVote]
    consensus_strength: float
    model_version: str
    cascade_run_id: str
    market_context: _struct_pb2.Struct
    outcome: SignalOutcome
    probability: float
    def __init__(self, signal_id: _Optional[str] = ..., symbol: _Optional[str] = ..., signal_type: _Optional[_Union[SignalType, str]] = ..., status: _Optional[_Union[SignalStatus, str]] = ..., entry_price: _Optional[float] = ..., target_price: _Optional[float] = ..., stop_loss: _Optional[float] = ..., confidence: _Optional[float] = ..., risk_level: _Optional[_Union[_analysis_pb2.RiskLevel, str]] = ..., risk_reward_ratio: _Optional[float] = ..., position_size: _Optional[float] = ..., time_horizon_hours: _Optional[int] = ..., generated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., ai_analysis: _Optional[str] = ..., market_regime: _Optional[_Union[_analysis_pb2.Regime, str]] = ..., votes: _Optional[_Iterable[_Union[SignalVote, _Mapping]]] = ..., consensus_strength: _Optional[float] = ..., model_version: _Optional[str] = ..., cascade_run_id: _Optional[str] = ..., market_context: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., outcome: _Optional[_Union[SignalOutcome, _Mapping]] = ..., probability: _Optional[float] = ...) -> None: ...

class SignalOutcome(_message.Message):
    __slots__ = ("entry_fill_price", "exit_price", "closed_at", "gross_return", "net_return", "bars_held", "reason")
    ENTRY_FILL_PRICE_FIELD_NUMBER: _ClassVar[int]
    EXIT_PRICE_FIELD_NUMBER: _ClassVar[int]
    CLOSED_AT_FIELD_NUMBER: _ClassVar[int]
    GROSS_RETURN_FIELD_NUMBER: _ClassVar[int]
    NET_RETURN_FIELD_NUMBER: _ClassVar[int]
    BARS_HELD_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    entry_fill_price: float
    exit_price: float
    closed_at: _timestamp_pb2.Timestamp
    gross_return: float
    net_return: float
    bars_held: int
    reason: str
    def __init__(self, entry_fill_price: _Optional[float] = ..., exit_price: _Optional[float] = ..., closed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., gross_return: _Optional[float] = ..., net_return: _Optional[float] = ..., bars_held: _Optional[int] = ..., reason: _Optional[str] = ...) -> None: ...
