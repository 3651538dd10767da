"""What clients are told: :class:`Notice`, built from each consumed event.

A notice has a client message ``type`` (the seeds' ``new_signal``, ``signal_update``,
``layer1_update``, ``admin_notification``...), the streams it is for (``audiences``: the
dashboard, signals and admin WebSockets), its ``data``, and what routing needs (the symbol and
confidence of a signal, or one user for a personal notice).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from google.protobuf.message import Message

from cryptopredict.events.v1 import admin_pb2, analysis_pb2, cascade_pb2, signals_pb2, watchlists_pb2
from notification_service.proto_json import to_plain


class Audience(StrEnum):
    """The three WebSocket streams."""

    DASHBOARD = "dashboard"
    SIGNALS = "signals"
    ADMIN = "admin"


@dataclass(frozen=True)
class Notice:
    type: str
    audiences: frozenset[Audience]
    data: Mapping[str, Any]
    #: The event it came from (``event-id``); with ``type`` it makes the notice idempotent.
    event_id: str
    symbol: str | None = None
    confidence: float | None = None
    #: Set for a personal notice (only this user's connections get it).
    user_id: str | None = None

    def data_json(self) -> str:
        return json.dumps(self.data, separators=(",", ":"), default=str)


_SIGNAL_AUDIENCES = frozenset({Audience.DASHBOARD, Audience.SIGNALS})


def signal_data(change: signals_pb2.SignalChanged) -> dict[str, Any]:
    """A signal as clients and webhooks see it (``crypto_symbol`` is the seeds' name)."""
    data: dict[str, Any] = to_plain(change.signal)
    data["crypto_symbol"] = change.signal.symbol
    if change.HasField("closed"):
        data["closed"] = to_plain(change.closed)
    elif change.HasField("generated"):
        data["generated"] = to_plain(change.generated)
    return data


def signal_notice(change: signals_pb2.SignalChanged, event_id: str) -> Notice:
    kind = "signal_update" if change.HasField("closed") else "new_signal"
    return Notice(
        kind,
        _SIGNAL_AUDIENCES,
        signal_data(change),
        event_id,
        symbol=change.signal.symbol,
        confidence=change.signal.confidence,
    )


def _layer_notice(kind: str, message: Message, event_id: str, **routing: Any) -> Notice:
    data: dict[str, Any] = to_plain(message)
    return Notice(kind, frozenset({Audience.DASHBOARD}), data, event_id, **routing)


def macro_notice(message: analysis_pb2.MacroRegimeAnalyzed, event_id: str) -> Notice:
    notice = _layer_notice("layer1_update", message, event_id)
    # The seeds' field names next to the contract's.
    data = {**notice.data, "market_regime": notice.data["regime"], "timestamp": notice.data["analyzed_at"]}
    return Notice(notice.type, notice.audiences, data, event_id)


def sector_notice(message: analysis_pb2.SectorRotationAnalyzed, event_id: str) -> Notice:
    return _layer_notice("layer2_update", message, event_id)


def asset_notice(message: analysis_pb2.AssetScored, event_id: str) -> Notice:
    return _layer_notice("layer3_update", message, event_id, symbol=message.symbol)


def cascade_notice(message: cascade_pb2.CascadeRunUpdated, event_id: str) -> Notice:
    return Notice(
        "cascade_update", frozenset({Audience.DASHBOARD, Audience.ADMIN}), to_plain(message), event_id
    )


def suggestion_notice(message: watchlists_pb2.WatchlistSuggestionCreated, event_id: str) -> Notice:
    data = {"kind": "suggestion_created", "suggestion": to_plain(message)}
    return Notice("admin_notification", frozenset({Audience.ADMIN}), data, event_id)


def admin_notice(message: admin_pb2.AdminNotificationRaised, event_id: str) -> Notice:
    """The admin service's notification (``kind`` e.g. ``high_confidence_suggestion``)."""
    data: dict[str, Any] = to_plain(message)
    return Notice("admin_notification", frozenset({Audience.ADMIN}), data, event_id)


def personal_notice(user_id: str, kind: str, message: str, data: Mapping[str, Any], notice_id: str) -> Notice:
    """A notice for one user (e.g. "your webhook endpoint was disabled")."""
    return Notice(
        "notification",
        _SIGNAL_AUDIENCES,
        {"kind": kind, "message": message, **data},
        notice_id,
        user_id=user_id,
    )


def preferences_notice(user_id: str, preferences: Mapping[str, Any], notice_id: str) -> Notice:
    """Tells the user's open connections (on every replica) to route by new preferences."""
    return Notice("preferences_changed", _SIGNAL_AUDIENCES, dict(preferences), notice_id, user_id=user_id)
