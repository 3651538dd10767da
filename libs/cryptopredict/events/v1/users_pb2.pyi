import datetime

from cryptopredict.common.v1 import users_pb2 as _users_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class UserChangeKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    USER_CHANGE_KIND_UNSPECIFIED: _ClassVar[UserChangeKind]
    USER_CHANGE_KIND_REGISTERED: _ClassVar[UserChangeKind]
    USER_CHANGE_KIND_UPDATED: _ClassVar[UserChangeKind]
    USER_CHANGE_KIND_ROLE_CHANGED: _ClassVar[UserChangeKind]
    USER_CHANGE_KIND_DEACTIVATED: _ClassVar[UserChangeKind]
    USER_CHANGE_KIND_REACTIVATED: _ClassVar[UserChangeKind]
USER_CHANGE_KIND_UNSPECIFIED: UserChangeKind
USER_CHANGE_KIND_REGISTERED: UserChangeKind
USER_CHANGE_KIND_UPDATED: UserChangeKind
USER_CHANGE_KIND_ROLE_CHANGED: UserChangeKind
USER_CHANGE_KIND_DEACTIVATED: UserChangeKind
USER_CHANGE_KIND_REACTIVATED: UserChangeKind

class UserChanged(_message.Message):
    __slots__ = ("user_id", "kind", "email", "role", "is_active", "occurred_at", "actor_user_id", "actor_email", "actor_role", "previous_role", "previous_is_active")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    IS_ACTIVE_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    ACTOR_USER_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_EMAIL_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ROLE_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_ROLE_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_IS_ACTIVE_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    kind: UserChangeKind
    email: str
    role: _users_pb2.Role
    is_active: bool
    occurred_at: _timestamp_pb2.Timestamp
    actor_user_id: str
    actor_email: str
    actor_role: _users_pb2.Role
    previous_role: _users_pb2.Role
    previous_is_active: bool
    def __init__(self, user_id: _Optional[str] = ..., kind: _Optional[_Union[UserChangeKind, str]] = ..., email: _Optional[str] = ..., role: _Optional[_Union[_users_pb2.Role, str]] = ..., is_active: _Optional[bool] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., actor_user_id: _Optional[str] = ..., actor_email: _Optional[str] = ..., actor_role: _Optional[_Union[_users_pb2.Role, str]] = ..., previous_role: _Optional[_Union[_users_pb2.Role, str]] = ..., previous_is_active: _Optional[bool] = ...) -> None: ...
