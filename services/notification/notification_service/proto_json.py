"""Protobuf messages as the plain JSON clients see: field names as in the ``.proto``, enums as the
lower-case names the REST API uses (``REGIME_BULL`` -> ``"bull"``, unspecified -> ``null``),
timestamps as ISO 8601 (unset -> ``null``), every field present."""

from __future__ import annotations

import functools
from datetime import UTC
from typing import Any

from google.protobuf.descriptor import EnumDescriptor, FieldDescriptor
from google.protobuf.internal.enum_type_wrapper import EnumTypeWrapper
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from cp_common.proto_enums import value_prefix

_TIMESTAMP = Timestamp.DESCRIPTOR.full_name


@functools.cache
def _prefix(descriptor: EnumDescriptor) -> str:
    return value_prefix(EnumTypeWrapper(descriptor))


def _enum_name(descriptor: EnumDescriptor, number: int) -> str | None:
    value = descriptor.values_by_number.get(number)
    if value is None:
        return None
    short = value.name.removeprefix(_prefix(descriptor)).lower()
    return None if short == "unspecified" else short


def _scalar(field: FieldDescriptor, value: Any) -> Any:
    if field.type == FieldDescriptor.TYPE_ENUM:
        assert field.enum_type is not None
        return _enum_name(field.enum_type, value)
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        return to_plain(value)
    return value


def _is_map(field: FieldDescriptor) -> bool:
    return field.message_type is not None and field.message_type.GetOptions().map_entry


def _field(message: Message, field: FieldDescriptor) -> Any:
    value = getattr(message, field.name)
    if _is_map(field):
        assert field.message_type is not None
        value_field = field.message_type.fields_by_name["value"]
        return {key: _scalar(value_field, item) for key, item in value.items()}
    if field.is_repeated:
        return [_scalar(field, item) for item in value]
    if field.type == FieldDescriptor.TYPE_MESSAGE and not message.HasField(field.name):
        return None
    return _scalar(field, value)


def to_plain(message: Message) -> Any:
    """``message`` as JSON-ready Python values (a dict, or a string for a timestamp)."""
    if message.DESCRIPTOR.full_name == _TIMESTAMP:
        assert isinstance(message, Timestamp)
        return message.ToDatetime(tzinfo=UTC).isoformat().replace("+00:00", "Z")
    descriptor: Any = message.DESCRIPTOR  # the stubs type it as a union of two Descriptor classes
    return {field.name: _field(message, field) for field in descriptor.fields}
