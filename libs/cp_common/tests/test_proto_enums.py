"""Enum <-> string helper against the generated enums."""

from __future__ import annotations

import pytest

from cp_common.proto_enums import from_proto, to_proto, value_prefix
from cp_common.security import Role
from cryptopredict.common.v1 import users_pb2
from cryptopredict.events.v1 import users_pb2 as user_events_pb2


def test_prefix_from_the_enum_name() -> None:
    assert value_prefix(users_pb2.Role) == "ROLE_"
    assert value_prefix(user_events_pb2.UserChangeKind) == "USER_CHANGE_KIND_"


@pytest.mark.parametrize("role", list(Role))
def test_every_role_round_trips(role: Role) -> None:
    number = to_proto(users_pb2.Role, role.value)
    assert number != users_pb2.ROLE_UNSPECIFIED
    assert from_proto(users_pb2.Role, number) == role.value


def test_multi_word_enum_values() -> None:
    kind = to_proto(user_events_pb2.UserChangeKind, "role_changed")
    assert kind == user_events_pb2.USER_CHANGE_KIND_ROLE_CHANGED
    assert from_proto(user_events_pb2.UserChangeKind, kind) == "role_changed"


@pytest.mark.parametrize("name", ["", "unspecified", "superuser", "ROLE_ADMIN"])
def test_unknown_names_are_refused(name: str) -> None:
    with pytest.raises(ValueError):
        to_proto(users_pb2.Role, name)


def test_unspecified_and_unknown_numbers() -> None:
    with pytest.raises(ValueError, match="unspecified"):
        from_proto(users_pb2.Role, users_pb2.ROLE_UNSPECIFIED)
    assert from_proto(users_pb2.Role, users_pb2.ROLE_UNSPECIFIED, default="casual") == "casual"
    with pytest.raises(ValueError):
        from_proto(users_pb2.Role, 99)
