import datetime

from cryptopredict.common.v1 import market_pb2 as _market_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GetCandlesRequest(_message.Message):
    __slots__ = ("symbols", "interval", "lookback", "end_time")
    SYMBOLS_FIELD_NUMBER: _ClassVar[int]
    INTERVAL_FIELD_NUMBER: _ClassVar[int]
    LOOKBACK_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    symbols: _containers.RepeatedScalarFieldContainer[str]
    interval: _market_pb2.Interval
    lookback: int
    end_time: _timestamp_pb2.Timestamp
    def __init__(self, symbols: _Optional[_Iterable[str]] = ..., interval: _Optional[_Union[_market_pb2.Interval, str]] = ..., lookback: _Optional[int] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class SymbolCandles(_message.Message):
    __slots__ = ("symbol", "candles")
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    CANDLES_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    candles: _containers.RepeatedCompositeFieldContainer[_market_pb2.Candle]
    def __init__(self, symbol: _Optional[str] = ..., candles: _Optional[_Iterable[_Union[_market_pb2.Candle, _Mapping]]] = ...) -> None: ...

class GetCandlesResponse(_message.Message):
    __slots__ = ("series", "missing_symbols")
    SERIES_FIELD_NUMBER: _ClassVar[int]
    MISSING_SYMBOLS_FIELD_NUMBER: _ClassVar[int]
    series: _containers.RepeatedCompositeFieldContainer[SymbolCandles]
    missing_symbols: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, series: _Optional[_Iterable[_Union[SymbolCandles, _Mapping]]] = ..., missing_symbols: _Optional[_Iterable[str]] = ...) -> None: ...

class GetLatestSnapshotRequest(_message.Message):
    __slots__ = ("top_assets",)
    TOP_ASSETS_FIELD_NUMBER: _ClassVar[int]
    top_assets: int
    def __init__(self, top_assets: _Optional[int] = ...) -> None: ...

class GetLatestSnapshotResponse(_message.Message):
    __slots__ = ("snapshot",)
    SNAPSHOT_FIELD_NUMBER: _ClassVar[int]
    snapshot: _market_pb2.MarketSnapshot
    def __init__(self, snapshot: _Optional[_Union[_market_pb2.MarketSnapshot, _Mapping]] = ...) -> None: ...

class ListSnapshotsRequest(_message.Message):
    __slots__ = ("start_time", "end_time", "limit")
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    limit: int
    def __init__(self, start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., limit: _Optional[int] = ...) -> None: ...

class ListSnapshotsResponse(_message.Message):
    __slots__ = ("snapshots",)
    SNAPSHOTS_FIELD_NUMBER: _ClassVar[int]
    snapshots: _containers.RepeatedCompositeFieldContainer[_market_pb2.MarketSnapshot]
    def __init__(self, snapshots: _Optional[_Iterable[_Union[_market_pb2.MarketSnapshot, _Mapping]]] = ...) -> None: ...

class GetUniverseRequest(_message.Message):
    __slots__ = ("top_n", "sector")
    TOP_N_FIELD_NUMBER: _ClassVar[int]
    SECTOR_FIELD_NUMBER: _ClassVar[int]
    top_n: int
    sector: str
    def __init__(self, top_n: _Optional[int] = ..., sector: _Optional[str] = ...) -> None: ...

class UniverseAsset(_message.Message):
    __slots__ = ("symbol", "name", "sector", "market_cap_rank", "quote")
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    SECTOR_FIELD_NUMBER: _ClassVar[int]
    MARKET_CAP_RANK_FIELD_NUMBER: _ClassVar[int]
    QUOTE_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    name: str
    sector: str
    market_cap_rank: int
    quote: _market_pb2.AssetQuote
    def __init__(self, symbol: _Optional[str] = ..., name: _Optional[str] = ..., sector: _Optional[str] = ..., market_cap_rank: _Optional[int] = ..., quote: _Optional[_Union[_market_pb2.AssetQuote, _Mapping]] = ...) -> None: ...

class Sector(_message.Message):
    __slots__ = ("sector", "name", "asset_count")
    SECTOR_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    ASSET_COUNT_FIELD_NUMBER: _ClassVar[int]
    sector: str
    name: str
    asset_count: int
    def __init__(self, sector: _Optional[str] = ..., name: _Optional[str] = ..., asset_count: _Optional[int] = ...) -> None: ...

class GetUniverseResponse(_message.Message):
    __slots__ = ("assets", "sectors")
    ASSETS_FIELD_NUMBER: _ClassVar[int]
    SECTORS_FIELD_NUMBER: _ClassVar[int]
    assets: _containers.RepeatedCompositeFieldContainer[UniverseAsset]
    sectors: _containers.RepeatedCompositeFieldContainer[Sector]
    def __init__(self, assets: _Optional[_Iterable[_Union[UniverseAsset, _Mapping]]] = ..., sectors: _Optional[_Iterable[_Union[Sector, _Mapping]]] = ...) -> None: ...
