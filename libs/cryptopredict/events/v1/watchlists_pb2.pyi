import datetime

from cryptopredict.common.v1 import watchlists_pb2 as _watchlists_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class WatchlistChangeKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    WATCHLIST_CHANGE_KIND_UNSPECIFIED: _ClassVar[WatchlistChangeKind]
    WATCHLIST_CHANGE_KIND_ITEM_ADDED: _ClassVar[WatchlistChangeKind]
    WATCHLIST_CHANGE_KIND_ITEM_REMOVED: _ClassVar[WatchlistChangeKind]
    WATCHLIST_CHANGE_KIND_ITEM_TIER_CHANGED: _ClassVar[WatchlistChangeKind]
    WATCHLIST_CHANGE_KIND_WATCHLIST_CREATED: _ClassVar[WatchlistChangeKind]
    WATCHLIST_CHANGE_KIND_WATCHLIST_DELETED: _ClassVar[WatchlistChangeKind]
    WATCHLIST_CHANGE_KIND_ITEMS_REORDERED: _ClassVar[WatchlistChangeKind]
    WATCHLIST_CHANGE_KIND_ITEM_STATUS_CHANGED: _ClassVar[WatchlistChangeKind]
WATCHLIST_CHANGE_KIND_UNSPECIFIED: WatchlistChangeKind
WATCHLIST_CHANGE_KIND_ITEM_ADDED: WatchlistChangeKind
WATCHLIST_CHANGE_KIND_ITEM_REMOVED: WatchlistChangeKind
WATCHLIST_CHANGE_KIND_ITEM_TIER_CHANGED: WatchlistChangeKind
WATCHLIST_CHANGE_KIND_WATCHLIST_CREATED: WatchlistChangeKind
WATCHLIST_CHANGE_KIND_WATCHLIST_DELETED: WatchlistChangeKind
WATCHLIST_CHANGE_KIND_ITEMS_REORDERED: WatchlistChangeKind
WATCHLIST_CHANGE_KIND_ITEM_STATUS_CHANGED: WatchlistChangeKind

class WatchlistSuggestionCreated(_message.Message):
    __slots__ = ("suggestion_id", "symbol", "suggestion_type", "confidence", "ai_reasoning", "supporting_data", "model_version", "suggested_at", "cascade_run_id")
    class SupportingDataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    SUGGESTION_ID_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    SUGGESTION_TYPE_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    AI_REASONING_FIELD_NUMBER: _ClassVar[int]
    SUPPORTING_DATA_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    SUGGESTED_AT_FIELD_NUMBER: _ClassVar[int]
    CASCADE_RUN_ID_FIELD_NUMBER: _ClassVar[int]
    suggestion_id: str
    symbol: str
    suggestion_type: _watchlists_pb2.SuggestionType
    confidence: float
    ai_reasoning: str
    supporting_data: _containers.ScalarMap[str, float]
    model_version: str
    suggested_at: _timestamp_pb2.Timestamp
    cascade_run_id: str
    def __init__(self, suggestion_id: _Optional[str] = ..., symbol: _Optional[str] = ..., suggestion_type: _Optional[_Union[_watchlists_pb2.SuggestionType, str]] = ..., confidence: _Optional[float] = ..., ai_reasoning: _Optional[str] = ..., supporting_data: _Optional[_Mapping[str, float]] = ..., model_version: _Optional[str] = ..., suggested_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., cascade_run_id: _Optional[str] = ...) -> None: ...

class SuggestionReviewed(_message.Message):
    __slots__ = ("review_id", "suggestion_id", "symbol", "suggestion_type", "decision", "reviewer_user_id", "reviewer_email", "comment", "reviewed_at")
    REVIEW_ID_FIELD_NUMBER: _ClassVar[int]
    SUGGESTION_ID_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    SUGGESTION_TYPE_FIELD_NUMBER: _ClassVar[int]
    DECISION_FIELD_NUMBER: _ClassVar[int]
    REVIEWER_USER_ID_FIELD_NUMBER: _ClassVar[int]
    REVIEWER_EMAIL_FIELD_NUMBER: _ClassVar[int]
    COMMENT_FIELD_NUMBER: _ClassVar[int]
    REVIEWED_AT_FIELD_NUMBER: _ClassVar[int]
    review_id: str
    suggestion_id: str
    symbol: str
    suggestion_type: _watchlists_pb2.SuggestionType
    decision: _watchlists_pb2.ReviewDecision
    reviewer_user_id: str
    reviewer_email: str
    comment: str
    reviewed_at: _timestamp_pb2.Timestamp
    def __init__(self, review_id: _Optional[str] = ..., suggestion_id: _Optional[str] = ..., symbol: _Optional[str] = ..., suggestion_type: _Optional[_Union[_watchlists_pb2.SuggestionType, str]] = ..., decision: _Optional[_Union[_watchlists_pb2.ReviewDecision, str]] = ..., reviewer_user_id: _Optional[str] = ..., reviewer_email: _Optional[str] = ..., comment: _Optional[str] = ..., reviewed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class WatchlistChanged(_message.Message):
    __slots__ = ("change_id", "watchlist_id", "kind", "item_id", "symbol", "tier", "previous_tier", "actor_user_id", "suggestion_id", "changed_at", "status")
    CHANGE_ID_FIELD_NUMBER: _ClassVar[int]
    WATCHLIST_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    TIER_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_TIER_FIELD_NUMBER: _ClassVar[int]
    ACTOR_USER_ID_FIELD_NUMBER: _ClassVar[int]
    SUGGESTION_ID_FIELD_NUMBER: _ClassVar[int]
    CHANGED_AT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    change_id: str
    watchlist_id: str
    kind: WatchlistChangeKind
    item_id: str
    symbol: str
    tier: _watchlists_pb2.WatchlistTier
    previous_tier: _watchlists_pb2.WatchlistTier
    actor_user_id: str
    suggestion_id: str
    changed_at: _timestamp_pb2.Timestamp
    status: str
    def __init__(self, change_id: _Optional[str] = ..., watchlist_id: _Optional[str] = ..., kind: _Optional[_Union[WatchlistChangeKind, str]] = ..., item_id: _Optional[str] = ..., symbol: _Optional[str] = ..., tier: _Optional[_Union[_watchlists_pb2.WatchlistTier, str]] = ..., previous_tier: _Optional[_Union[_watchlists_pb2.WatchlistTier, str]] = ..., actor_user_id: _Optional[str] = ..., suggestion_id: _Optional[str] = ..., changed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., status: _Optional[str] = ...) -> None: ...
