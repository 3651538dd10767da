"""Protobuf messages as the plain JSON clients see: field names as in the ``.proto``, enums as the
lower-case names the REST API uses (``REGIME_BULL`` -> ``"bull"``, unspecified -> ``null``),
timestamps as ISO 8601 (unset -> ``null``), every field present."""

from __future__ import annotations

import functools
from datetime import UTC
from typing import TYPE_CHECKING, Any

from google.protobuf.descriptor import EnumDescriptor, FieldDescriptor
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from cp_common.proto_enums import name_prefix

if TYPE_CHECKING:
    # the stubs describe the C (upb) descriptors apart from the Python ones
    from google._upb._message import EnumDescriptor as UpbEnumDescriptor
    from google._upb._message import FieldDescriptor as UpbFieldDescriptor

_TIMESTAMP = Timestamp.DESCRIPTOR.full_name


@functools.cache
def _prefix(descriptor: EnumDescriptor | UpbEnumDescriptor) -> str:
    return name_prefix(descriptor.name)


def _enum_name(descriptor: EnumDescriptor | UpbEnumDescriptor, number: int) -> str | None:
    value = descriptor.values_by_number.get(number)
    if value is None:
        return None
    short = value.name.removeprefix(_prefix(descriptor)).lower()
    return None if short == "unspecified" else short


def _scalar(field: FieldDescriptor | UpbFieldDescriptor, value: Any) -> Any:
    if field.enum_type is not None:  # set exactly for TYPE_ENUM fields
        return _enum_name(field.enum_type, value)
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        return to_plain(value)
    return value


def _field(message: Message, field: FieldDescriptor | UpbFieldDescriptor) -> Any:
    value = getattr(message, field.name)
    entry = field.message_type
    if entry is not None and entry.GetOptions().map_entry:
        value_field = entry.fields_by_name["value"]
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
    return {field.name: _field(message, field) for field in message.DESCRIPTOR.fields}
