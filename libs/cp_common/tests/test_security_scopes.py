"""The ``scope`` claim's rules: which values are valid, and what a scope allows."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cp_common.security import Principal, Role, scopes


def _principal(scope: str | None) -> Principal:
    now = datetime.now(UTC)
    return Principal("u", Role.CASUAL, "u@example.com", "j", now, now, scope=scope)


@pytest.mark.parametrize(
    ("scope", "valid"),
    [
        ("read", True),
        ("read execute", True),
        ("execute read", True),
        ("", False),
        ("read read", False),
        ("write", False),
        ("read  execute", False),
    ],
)
def test_valid_scopes(scope: str, valid: bool) -> None:
    assert scopes.valid(scope) is valid


def test_a_login_session_may_do_anything_its_role_may() -> None:
    assert scopes.allows(_principal(None), scopes.EXECUTE)
    assert scopes.allows(_principal("read execute"), scopes.EXECUTE)
    assert not scopes.allows(_principal("read"), scopes.EXECUTE)
    assert scopes.allows(_principal("read"), scopes.READ)


def test_an_unknown_scope_cannot_be_required() -> None:
    with pytest.raises(ValueError, match="unknown scope"):
        scopes.require_scope("write")
