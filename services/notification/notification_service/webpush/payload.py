"""What a push message carries: the signal alert, small enough for every push service.

Push services accept about 4 KB of encrypted body (RFC 8291 leaves 3,993 bytes of plaintext in
one aes128gcm record), so a push message carries the alert's essentials, not the whole signal
with its analysis text; the service worker shows ``title``/``body`` and may fetch the rest.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

#: The signal fields a push message keeps.
SIGNAL_FIELDS = (
    "signal_id",
    "symbol",
    "crypto_symbol",
    "signal_type",
    "status",
    "confidence",
    "entry_price",
    "target_price",
    "stop_loss",
    "time_horizon_hours",
    "generated_at",
    "expires_at",
)
#: Plaintext bytes a push message may have (the record limit with room to spare).
MAX_PAYLOAD_BYTES = 3_000


def push_payload(payload: Mapping[str, Any]) -> dict[str, Any]:
    """The push message for a webhook-style signal payload (``type``, ``event_id``,
    ``timestamp``, ``data``)."""
    data: Mapping[str, Any] = payload["data"]
    kept = {key: data[key] for key in SIGNAL_FIELDS if key in data}
    verb = "Signal update" if payload["type"] == "signal_update" else "New signal"
    message = {
        "type": payload["type"],
        "event_id": payload["event_id"],
        "timestamp": payload["timestamp"],
        "title": f"{verb}: {data.get('symbol', '')} {str(data.get('signal_type', '')).upper()}".strip(),
        "body": f"confidence {float(data.get('confidence') or 0):.0%}, status {data.get('status', '')}",
        "data": kept,
    }
    if len(json.dumps(message, default=str).encode()) > MAX_PAYLOAD_BYTES:
        message["data"] = {"signal_id": data.get("signal_id"), "symbol": data.get("symbol")}
    return message
