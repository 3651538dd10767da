"""What clients may send on a WebSocket, and the answers (the 004 seed's protocol).

- ``{"type": "ping"}`` -> ``{"type": "pong"}``
- ``{"type": "subscribe", "symbols": ["BTC", ...]}`` / ``"unsubscribe"`` ->
  ``{"type": "subscription_confirmed", "data": {"symbols": [...]}}`` (``channels`` is accepted as
  another name for ``symbols``)
- ``{"type": "get_signals", "symbol": "BTC"}`` -> ``{"type": "signals_response", ...}``

Anything else gets ``{"type": "error", "message": ...}`` and the connection stays open.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from notification_service.connection import Connection

SYMBOL = re.compile(r"^[A-Z0-9]{1,20}$")

SignalsLookup = Callable[[str], Awaitable[list[dict[str, Any]]]]


class ProtocolError(ValueError):
    """The client's message is not valid; the message is safe to send back."""


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _symbols(message: dict[str, Any]) -> set[str]:
    raw = message.get("symbols", message.get("channels"))
    if not isinstance(raw, list) or not raw:
        raise ProtocolError("symbols must be a non-empty list")
    symbols = {str(item).upper() for item in raw if isinstance(item, str)}
    if len(symbols) != len(raw) or not all(SYMBOL.match(s) for s in symbols):
        raise ProtocolError("symbols must be ticker symbols such as BTC")
    return symbols


def _parse(text: str) -> dict[str, Any]:
    try:
        message = json.loads(text)
    except ValueError:
        raise ProtocolError("Invalid JSON") from None
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        raise ProtocolError("a message is a JSON object with a type")
    return message


def _subscription(connection: Connection, message: dict[str, Any], max_symbols: int) -> dict[str, Any]:
    symbols = _symbols(message)
    if message["type"] == "subscribe":
        if len(connection.subscribed | symbols) > max_symbols:
            raise ProtocolError(f"at most {max_symbols} subscriptions per connection")
        connection.subscribed |= symbols
    else:
        connection.subscribed -= symbols
    return {"type": "subscription_confirmed", "data": {"symbols": sorted(connection.subscribed)}}


async def answer(
    connection: Connection, text: str, *, signals: SignalsLookup, max_symbols: int
) -> dict[str, Any]:
    """The reply to one client message (an ``error`` message for an invalid one)."""
    try:
        message = _parse(text)
        kind = message["type"]
        if kind == "ping":
            return {"type": "pong", "timestamp": _now()}
        if kind in ("subscribe", "unsubscribe"):
            return _subscription(connection, message, max_symbols)
        if kind == "get_signals":
            symbol = str(message.get("symbol", "")).upper()
            if not SYMBOL.match(symbol):
                raise ProtocolError("symbol must be a ticker symbol such as BTC")
            found = await signals(symbol)
            return {"type": "signals_response", "data": {"symbol": symbol, "signals": found}}
        raise ProtocolError("unknown message type")
    except ProtocolError as exc:
        return {"type": "error", "message": str(exc), "timestamp": _now()}
