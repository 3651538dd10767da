import datetime

from cryptopredict.common.v1 import watchlists_pb2 as _watchlists_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GetTierSetsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class TierItem(_message.Message):
    __slots__ = ("symbol", "tier", "priority_order", "watchlist_id", "item_id")
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    TIER_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_ORDER_FIELD_NUMBER: _ClassVar[int]
    WATCHLIST_ID_FIELD_NUMBER: _ClassVar[int]
    ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    tier: _watchlists_pb2.WatchlistTier
    priority_order: int
    watchlist_id: str
    item_id: str
    def __init__(self, symbol: _Optional[str] = ..., tier: _Optional[_Union[_watchlists_pb2.WatchlistTier, str]] = ..., priority_order: _Optional[int] = ..., watchlist_id: _Optional[str] = ..., item_id: _Optional[str] = ...) -> None: ...

class GetTierSetsResponse(_message.Message):
    __slots__ = ("tier1_items", "tier2_items", "changed_at")
    TIER1_ITEMS_FIELD_NUMBER: _ClassVar[int]
    TIER2_ITEMS_FIELD_NUMBER: _ClassVar[int]
    CHANGED_AT_FIELD_NUMBER: _ClassVar[int]
    tier1_items: _containers.RepeatedCompositeFieldContainer[TierItem]
    tier2_items: _containers.RepeatedCompositeFieldContainer[TierItem]
    changed_at: _timestamp_pb2.Timestamp
    def __init__(self, tier1_items: _Optional[_Iterable[_Union[TierItem, _Mapping]]] = ..., tier2_items: _Optional[_Iterable[_Union[TierItem, _Mapping]]] = ..., changed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
