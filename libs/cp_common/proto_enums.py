"""Protobuf enum values <-> the lower-case strings the REST API, JWT claims and database use.

Buf-style enums prefix every value with the enum's name in UPPER_SNAKE_CASE and reserve zero for
``_UNSPECIFIED`` (``Role.ROLE_PROFESSIONAL`` <-> ``"professional"``)::

    to_proto(users_pb2.Role, "admin")              # users_pb2.ROLE_ADMIN
    from_proto(users_pb2.Role, users_pb2.ROLE_ADMIN)  # "admin"

An unknown name raises ``ValueError``; so does the ``_UNSPECIFIED`` value unless a default is given.
"""

from __future__ import annotations

import re
from typing import Any, Protocol, TypeVar, cast


class ProtoEnum(Protocol):
    """What generated enum wrappers (``users_pb2.Role``) offer."""

    DESCRIPTOR: Any

    def Name(self, number: int) -> str: ...

    def Value(self, name: str) -> int: ...


def value_prefix(enum: ProtoEnum) -> str:
    """``Role`` -> ``ROLE_``, ``UserChangeKind`` -> ``USER_CHANGE_KIND_``."""
    return name_prefix(enum.DESCRIPTOR.name)


def name_prefix(enum_name: str) -> str:
    """The value prefix of the enum named ``enum_name`` (see :func:`value_prefix`)."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", enum_name).upper() + "_"


#: A generated enum as its stubs name it (``users_pb2.Role``: a subclass of ``int``).
EnumT = TypeVar("EnumT", bound=int)


def to_proto(enum: type[EnumT], name: str) -> EnumT:
    """The number of the value named ``name`` (case-insensitive, without the prefix), typed as
    the enum, so it can be assigned to a field of that enum."""
    # at run time a generated enum is an EnumTypeWrapper object, not the class its stubs declare
    wrapper = cast(ProtoEnum, enum)
    if not name or name.lower() == "unspecified":
        raise ValueError(f"{name!r} is not a value of {wrapper.DESCRIPTOR.name}")
    try:
        return cast(EnumT, wrapper.Value(value_prefix(wrapper) + name.upper()))
    except ValueError:
        raise ValueError(f"{name!r} is not a value of {wrapper.DESCRIPTOR.name}") from None


def from_proto(enum: ProtoEnum, number: int, default: str | None = None) -> str:
    """The lower-case name of ``number``; the zero value gives ``default`` (or ``ValueError``)."""
    try:
        full = enum.Name(number)
    except ValueError:
        raise ValueError(f"{number} is not a value of {enum.DESCRIPTOR.name}") from None
    short = full.removeprefix(value_prefix(enum)).lower()
    if short == "unspecified":
        if default is None:
            raise ValueError(f"{enum.DESCRIPTOR.name} is unspecified")
        return default
    return short
