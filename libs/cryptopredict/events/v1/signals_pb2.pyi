import datetime

from cryptopredict.common.v1 import signals_pb2 as _signals_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SignalGenerated(_message.Message):
    __slots__ = ("participating_voters",)
    PARTICIPATING_VOTERS_FIELD_NUMBER: _ClassVar[int]
    participating_voters: int
    def __init__(self, participating_voters: _Optional[int] = ...) -> None: ...

class SignalClosed(_message.Message):
    __slots__ = ("final_status", "exit_price", "closed_at", "return_pct", "reason")
    FINAL_STATUS_FIELD_NUMBER: _ClassVar[int]
    EXIT_PRICE_FIELD_NUMBER: _ClassVar[int]
    CLOSED_AT_FIELD_NUMBER: _ClassVar[int]
    RETURN_PCT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    final_status: _signals_pb2.SignalStatus
    exit_price: float
    closed_at: _timestamp_pb2.Timestamp
    return_pct: float
    reason: str
    def __init__(self, final_status: _Optional[_Union[_signals_pb2.SignalStatus, str]] = ..., exit_price: _Optional[float] = ..., closed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., return_pct: _Optional[float] = ..., reason: _Optional[str] = ...) -> None: ...

class SignalUpdated(_message.Message):
    __slots__ = ("reason",)
    REASON_FIELD_NUMBER: _ClassVar[int]
    reason: str
    def __init__(self, reason: _Optional[str] = ...) -> None: ...

class SignalChanged(_message.Message):
    __slots__ = ("signal", "generated", "closed", "updated")
    SIGNAL_FIELD_NUMBER: _ClassVar[int]
    GENERATED_FIELD_NUMBER: _ClassVar[int]
    CLOSED_FIELD_NUMBER: _ClassVar[int]
    UPDATED_FIELD_NUMBER: _ClassVar[int]
    signal: _signals_pb2.Signal
    generated: SignalGenerated
    closed: SignalClosed
    updated: SignalUpdated
    def __init__(self, signal: _Optional[_Union[_signals_pb2.Signal, _Mapping]] = ..., generated: _Optional[_Union[SignalGenerated, _Mapping]] = ..., closed: _Optional[_Union[SignalClosed, _Mapping]] = ..., updated: _Optional[_Union[SignalUpdated, _Mapping]] = ...) -> None: ...
