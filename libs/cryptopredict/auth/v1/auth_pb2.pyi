import datetime

from cryptopredict.common.v1 import users_pb2 as _users_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class InactiveReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    INACTIVE_REASON_UNSPECIFIED: _ClassVar[InactiveReason]
    INACTIVE_REASON_INVALID: _ClassVar[InactiveReason]
    INACTIVE_REASON_EXPIRED: _ClassVar[InactiveReason]
    INACTIVE_REASON_REVOKED: _ClassVar[InactiveReason]
    INACTIVE_REASON_ACCOUNT_INACTIVE: _ClassVar[InactiveReason]
INACTIVE_REASON_UNSPECIFIED: InactiveReason
INACTIVE_REASON_INVALID: InactiveReason
INACTIVE_REASON_EXPIRED: InactiveReason
INACTIVE_REASON_REVOKED: InactiveReason
INACTIVE_REASON_ACCOUNT_INACTIVE: InactiveReason

class User(_message.Message):
    __slots__ = ("user_id", "email", "role", "is_active", "created_at", "last_login_at")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    IS_ACTIVE_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    LAST_LOGIN_AT_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    email: str
    role: _users_pb2.Role
    is_active: bool
    created_at: _timestamp_pb2.Timestamp
    last_login_at: _timestamp_pb2.Timestamp
    def __init__(self, user_id: _Optional[str] = ..., email: _Optional[str] = ..., role: _Optional[_Union[_users_pb2.Role, str]] = ..., is_active: _Optional[bool] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_login_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GetUserRequest(_message.Message):
    __slots__ = ("user_id",)
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    def __init__(self, user_id: _Optional[str] = ...) -> None: ...

class GetUserResponse(_message.Message):
    __slots__ = ("user",)
    USER_FIELD_NUMBER: _ClassVar[int]
    user: User
    def __init__(self, user: _Optional[_Union[User, _Mapping]] = ...) -> None: ...

class IntrospectTokenRequest(_message.Message):
    __slots__ = ("token",)
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    token: str
    def __init__(self, token: _Optional[str] = ...) -> None: ...

class IntrospectTokenResponse(_message.Message):
    __slots__ = ("active", "inactive_reason", "user_id", "email", "role", "jti", "issued_at", "expires_at")
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    INACTIVE_REASON_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    JTI_FIELD_NUMBER: _ClassVar[int]
    ISSUED_AT_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    active: bool
    inactive_reason: InactiveReason
    user_id: str
    email: str
    role: _users_pb2.Role
    jti: str
    issued_at: _timestamp_pb2.Timestamp
    expires_at: _timestamp_pb2.Timestamp
    def __init__(self, active: _Optional[bool] = ..., inactive_reason: _Optional[_Union[InactiveReason, str]] = ..., user_id: _Optional[str] = ..., email: _Optional[str] = ..., role: _Optional[_Union[_users_pb2.Role, str]] = ..., jti: _Optional[str] = ..., issued_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
