"""Conversions between the models' plain values and the contracts' types."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any, cast

from google.protobuf.timestamp_pb2 import Timestamp

from cp_common.proto_enums import EnumT, to_proto
from cryptopredict.common.v1 import analysis_pb2 as common


def enum_value(enum: type[EnumT], name: str | None) -> EnumT:
    """The enum number of ``name``, or 0 (unspecified) for a name the contract does not know."""
    try:
        return to_proto(enum, name or "")
    except ValueError:
        return cast(EnumT, 0)


def regime(name: str | None) -> common.Regime:
    return enum_value(common.Regime, name)


def risk_level(name: str | None) -> common.RiskLevel:
    return enum_value(common.RiskLevel, name)


def timestamp(value: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(value)
    return stamp


def number(value: Any) -> float:
    """A float for a proto field: NaN for unknown (None, NaN, not a number)."""
    try:
        f = float(value)
    except (TypeError, ValueError):
        return math.nan
    return f if math.isfinite(f) else math.nan


def json_number(value: Any, digits: int | None = 6) -> float | None:
    """A float for a JSON view (rounded to ``digits`` unless None): None for unknown."""
    f = number(value)
    if math.isnan(f):
        return None
    return f if digits is None else round(f, digits)


def finite_map(values: Mapping[str, Any], digits: int | None = 6) -> dict[str, float]:
    """Only the known numbers of ``values`` (proto maps and JSON)."""
    out = {}
    for key, value in values.items():
        f = json_number(value, digits)
        if f is not None:
            out[str(key)] = f
    return out
