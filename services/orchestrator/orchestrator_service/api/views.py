"""JSON views of runs and their layer sections (protobuf -> the API's snake_case JSON)."""

from __future__ import annotations

from typing import Any

from google.protobuf.descriptor import Descriptor, EnumDescriptor, FieldDescriptor
from google.protobuf.internal.enum_type_wrapper import EnumTypeWrapper
from google.protobuf.json_format import MessageToDict
from google.protobuf.message import Message

from cp_common.proto_enums import value_prefix
from cryptopredict.orchestrator.v1 import orchestrator_pb2 as pb
from orchestrator_service.storage.runs import RunRow


def as_dict(message: Message) -> dict[str, Any]:
    """Snake-case JSON with enums as the API's lower-case names (``REGIME_BULL`` -> ``bull``)."""
    data = MessageToDict(message, preserving_proto_field_name=True, always_print_fields_with_no_presence=True)
    _lower_enums(message.DESCRIPTOR, data)  # type: ignore[arg-type]
    return data


def _enum_name(enum: EnumDescriptor, value: Any) -> Any:
    prefix = value_prefix(EnumTypeWrapper(enum))
    if isinstance(value, str) and value.startswith(prefix):
        name = value.removeprefix(prefix).lower()
        return None if name == "unspecified" else name
    return value


def _lower_field(field: FieldDescriptor, value: Any) -> Any:
    if field.enum_type is not None:
        if isinstance(value, list):
            return [_enum_name(field.enum_type, v) for v in value]
        return _enum_name(field.enum_type, value)
    if field.message_type is not None and not field.message_type.GetOptions().map_entry:
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, dict):
                _lower_enums(field.message_type, item)
    return value


def _lower_enums(descriptor: Descriptor, data: dict[str, Any]) -> None:
    for field in descriptor.fields:
        if field.name in data:
            data[field.name] = _lower_field(field, data[field.name])


def _timings(layers: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        layer["name"]: {k: layer[k] for k in ("outcome", "duration_ms", "layer_ms", "age_s", "error")}
        for layer in layers
    }


def run_summary(row: RunRow) -> dict[str, Any]:
    total_ms = None
    if row.finished_at is not None:
        total_ms = round((row.finished_at - row.started_at).total_seconds() * 1000, 3)
    return {
        "run_id": row.run_id,
        "trigger": row.trigger,
        "mode": row.mode,
        "status": row.status,
        "degraded": row.status == "degraded",
        "degraded_layers": row.degraded_layers,
        "symbols": row.symbols,
        "started_at": row.started_at.isoformat(),
        "finished_at": row.finished_at.isoformat() if row.finished_at else None,
        "attempts": row.attempts,
        "cascade_confidence": row.cascade_confidence,
        "signal_count": row.signal_count,
        "model_versions": row.model_versions,
        "timings": {"total_ms": total_ms, "layers": _timings(row.layers)},
        "error": row.error,
    }


def _section(response: Message, analysis: str | None) -> dict[str, Any]:
    """A layer's result at the top level of its section, with its ``run`` and ``context``."""
    data = as_dict(response)
    if analysis is None:
        return data
    return {**data.pop(analysis), **data}


def sections(response: pb.RunCascadeResponse) -> dict[str, Any]:
    return {
        "macro": _section(response.macro, "analysis") if response.HasField("macro") else None,
        "sector": _section(response.sector, "analysis") if response.HasField("sector") else None,
        "assets": _section(response.assets, "analysis") if response.HasField("assets") else None,
        "timing": _section(response.timing, None) if response.HasField("timing") else None,
    }


def run_detail(row: RunRow) -> dict[str, Any]:
    response = pb.RunCascadeResponse.FromString(row.response) if row.response else None
    return {**run_summary(row), **(sections(response) if response is not None else {})}
