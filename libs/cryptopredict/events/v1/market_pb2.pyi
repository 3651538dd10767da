from cryptopredict.common.v1 import market_pb2 as _market_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CandleClosed(_message.Message):
    __slots__ = ("candle",)
    CANDLE_FIELD_NUMBER: _ClassVar[int]
    candle: _market_pb2.Candle
    def __init__(self, candle: _Optional[_Union[_market_pb2.Candle, _Mapping]] = ...) -> None: ...

class MarketSnapshotTaken(_message.Message):
    __slots__ = ("snapshot",)
    SNAPSHOT_FIELD_NUMBER: _ClassVar[int]
    snapshot: _market_pb2.MarketSnapshot
    def __init__(self, snapshot: _Optional[_Union[_market_pb2.MarketSnapshot, _Mapping]] = ...) -> None: ...
