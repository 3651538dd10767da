import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Interval(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    INTERVAL_UNSPECIFIED: _ClassVar[Interval]
    INTERVAL_1H: _ClassVar[Interval]
    INTERVAL_4H: _ClassVar[Interval]
    INTERVAL_1D: _ClassVar[Interval]
INTERVAL_UNSPECIFIED: Interval
INTERVAL_1H: Interval
INTERVAL_4H: Interval
INTERVAL_1D: Interval

class Candle(_message.Message):
    __slots__ = ("symbol", "interval", "open_time", "open", "high", "low", "close", "volume", "quote_volume", "source")
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    INTERVAL_FIELD_NUMBER: _ClassVar[int]
    OPEN_TIME_FIELD_NUMBER: _ClassVar[int]
    OPEN_FIELD_NUMBER: _ClassVar[int]
    HIGH_FIELD_NUMBER: _ClassVar[int]
    LOW_FIELD_NUMBER: _ClassVar[int]
    CLOSE_FIELD_NUMBER: _ClassVar[int]
    VOLUME_FIELD_NUMBER: _ClassVar[int]
    QUOTE_VOLUME_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    interval: Interval
    open_time: _timestamp_pb2.Timestamp
    open: float
    high: float
    low: float
    close: float
    volume: float
    quote_volume: float
    source: str
    def __init__(self, symbol: _Optional[str] = ..., interval: _Optional[_Union[Interval, str]] = ..., open_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., open: _Optional[float] = ..., high: _Optional[float] = ..., low: _Optional[float] = ..., close: _Optional[float] = ..., volume: _Optional[float] = ..., quote_volume: _Optional[float] = ..., source: _Optional[str] = ...) -> None: ...

class AssetQuote(_message.Message):
    __slots__ = ("symbol", "price_usd", "change_24h_pct", "volume_24h_usd", "market_cap_usd", "sector")
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    PRICE_USD_FIELD_NUMBER: _ClassVar[int]
    CHANGE_24H_PCT_FIELD_NUMBER: _ClassVar[int]
    VOLUME_24H_USD_FIELD_NUMBER: _ClassVar[int]
    MARKET_CAP_USD_FIELD_NUMBER: _ClassVar[int]
    SECTOR_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    price_usd: float
    change_24h_pct: float
    volume_24h_usd: float
    market_cap_usd: float
    sector: str
    def __init__(self, symbol: _Optional[str] = ..., price_usd: _Optional[float] = ..., change_24h_pct: _Optional[float] = ..., volume_24h_usd: _Optional[float] = ..., market_cap_usd: _Optional[float] = ..., sector: _Optional[str] = ...) -> None: ...

class MarketSnapshot(_message.Message):
    __slots__ = ("snapshot_id", "taken_at", "total_market_cap_usd", "market_cap_change_24h_pct", "total_volume_24h_usd", "btc_dominance_pct", "eth_dominance_pct", "alt_dominance_pct", "stablecoin_dominance_pct", "fear_greed_index", "volume_trend", "funding_rate", "assets", "source")
    SNAPSHOT_ID_FIELD_NUMBER: _ClassVar[int]
    TAKEN_AT_FIELD_NUMBER: _ClassVar[int]
    TOTAL_MARKET_CAP_USD_FIELD_NUMBER: _ClassVar[int]
    MARKET_CAP_CHANGE_24H_PCT_FIELD_NUMBER: _ClassVar[int]
    TOTAL_VOLUME_24H_USD_FIELD_NUMBER: _ClassVar[int]
    BTC_DOMINANCE_PCT_FIELD_NUMBER: _ClassVar[int]
    ETH_DOMINANCE_PCT_FIELD_NUMBER: _ClassVar[int]
    ALT_DOMINANCE_PCT_FIELD_NUMBER: _ClassVar[int]
    STABLECOIN_DOMINANCE_PCT_FIELD_NUMBER: _ClassVar[int]
    FEAR_GREED_INDEX_FIELD_NUMBER: _ClassVar[int]
    VOLUME_TREND_FIELD_NUMBER: _ClassVar[int]
    FUNDING_RATE_FIELD_NUMBER: _ClassVar[int]
    ASSETS_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    snapshot_id: str
    taken_at: _timestamp_pb2.Timestamp
    total_market_cap_usd: float
    market_cap_change_24h_pct: float
    total_volume_24h_usd: float
    btc_dominance_pct: float
    eth_dominance_pct: float
    alt_dominance_pct: float
    stablecoin_dominance_pct: float
    fear_greed_index: float
    volume_trend: float
    funding_rate: float
    assets: _containers.RepeatedCompositeFieldContainer[AssetQuote]
    source: str
    def __init__(self, snapshot_id: _Optional[str] = ..., taken_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., total_market_cap_usd: _Optional[float] = ..., market_cap_change_24h_pct: _Optional[float] = ..., total_volume_24h_usd: _Optional[float] = ..., btc_dominance_pct: _Optional[float] = ..., eth_dominance_pct: _Optional[float] = ..., alt_dominance_pct: _Optional[float] = ..., stablecoin_dominance_pct: _Optional[float] = ..., fear_greed_index: _Optional[float] = ..., volume_trend: _Optional[float] = ..., funding_rate: _Optional[float] = ..., assets: _Optional[_Iterable[_Union[AssetQuote, _Mapping]]] = ..., source: _Optional[str] = ...) -> None: ...
