import datetime

from cryptopredict.common.v1 import watchlists_pb2 as _watchlists_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AdminNotificationKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ADMIN_NOTIFICATION_KIND_UNSPECIFIED: _ClassVar[AdminNotificationKind]
    ADMIN_NOTIFICATION_KIND_HIGH_CONFIDENCE_SUGGESTION: _ClassVar[AdminNotificationKind]
ADMIN_NOTIFICATION_KIND_UNSPECIFIED: AdminNotificationKind
ADMIN_NOTIFICATION_KIND_HIGH_CONFIDENCE_SUGGESTION: AdminNotificationKind

class AdminNotificationRaised(_message.Message):
    __slots__ = ("notification_id", "kind", "title", "raised_at", "suggestion_id", "symbol", "suggestion_type", "confidence")
    NOTIFICATION_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    RAISED_AT_FIELD_NUMBER: _ClassVar[int]
    SUGGESTION_ID_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    SUGGESTION_TYPE_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    notification_id: str
    kind: AdminNotificationKind
    title: str
    raised_at: _timestamp_pb2.Timestamp
    suggestion_id: str
    symbol: str
    suggestion_type: _watchlists_pb2.SuggestionType
    confidence: float
    def __init__(self, notification_id: _Optional[str] = ..., kind: _Optional[_Union[AdminNotificationKind, str]] = ..., title: _Optional[str] = ..., raised_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., suggestion_id: _Optional[str] = ..., symbol: _Optional[str] = ..., suggestion_type: _Optional[_Union[_watchlists_pb2.SuggestionType, str]] = ..., confidence: _Optional[float] = ...) -> None: ...
