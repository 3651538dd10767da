"""One WebSocket client: what it may receive, its bounded send queue, and why it was closed.

The hub's dispatcher never waits for a client: :meth:`Connection.offer` puts the entry's text in
the connection's queue without blocking, and a writer task per connection drains the queue.
A client whose queue is full (it reads slower than events arrive), or whose socket accepts
nothing for ``send_timeout`` seconds, is closed with :data:`CloseCode.TOO_SLOW`; everyone else
keeps receiving on time.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from cp_common.security import Principal
from notification_service import metrics
from notification_service.bus import Entry, id_key
from notification_service.notices import Audience

SIGNAL_TYPES = frozenset({"new_signal", "signal_update"})
PREFERENCES_CHANGED = "preferences_changed"


class CloseCode(IntEnum):
    """Close codes the service uses (4000-4999 are the application's own)."""

    GOING_AWAY = 1001
    #: A malformed handshake parameter (``last_event_id``).
    POLICY_VIOLATION = 1008
    MESSAGE_TOO_BIG = 1009
    #: No token, or a token that does not verify.
    AUTH_FAILED = 4001
    #: The token expired, or was revoked, while the connection was open.
    SESSION_ENDED = 4002
    #: Admin privileges required (the admin stream).
    FORBIDDEN = 4003
    #: The client read too slowly: its send queue overflowed or a send stalled.
    TOO_SLOW = 4008


@dataclass
class Preferences:
    """What a user wants pushed (the ``preferences`` row; defaults for a user without one)."""

    symbols: frozenset[str] = frozenset()
    min_confidence: float = 0.0
    channels: frozenset[str] = frozenset({"websocket", "webhook", "webpush"})

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Preferences:
        return cls(
            frozenset(data.get("symbols") or ()),
            float(data.get("min_confidence") or 0.0),
            frozenset(data.get("channels") or ()),
        )

    def as_data(self) -> dict[str, Any]:
        return {
            "symbols": sorted(self.symbols),
            "min_confidence": self.min_confidence,
            "channels": sorted(self.channels),
        }


@dataclass(eq=False)  # identity: connections live in sets
class Connection:
    websocket: WebSocket
    principal: Principal
    audience: Audience
    preferences: Preferences
    queue_size: int
    send_timeout: float
    subscribed: set[str] = field(default_factory=set)
    #: Stream key of the last entry queued; anything at or before it is never sent again.
    last_key: tuple[int, int] = (0, 0)
    #: Live entries held back while a replay is being queued (``None``: not replaying).
    held: list[Entry] | None = None
    sent: int = 0

    def __post_init__(self) -> None:
        self.queue: asyncio.Queue[str] = asyncio.Queue(self.queue_size)
        self.closing: asyncio.Future[tuple[int, str]] = asyncio.get_running_loop().create_future()

    @property
    def user_id(self) -> str:
        return self.principal.user_id

    # --- routing ----------------------------------------------------------------------------

    def accepts_signal(self, symbol: str | None, confidence: float | None) -> bool:
        """Users get the signals of symbols they watch (preferences) or subscribed to here; no
        symbol at all means every symbol. Below their minimum confidence, nothing."""
        if (confidence or 0.0) < self.preferences.min_confidence:
            return False
        if symbol in self.subscribed:
            return True
        if "websocket" not in self.preferences.channels:
            return False
        watched = self.preferences.symbols | self.subscribed
        return not watched or symbol in watched

    def wants(self, entry: Entry) -> bool:
        if entry.user_id is not None and entry.user_id != self.user_id:
            return False
        if self.audience not in entry.audiences:
            return False
        if entry.type in SIGNAL_TYPES:
            return self.accepts_signal(entry.symbol, entry.confidence)
        return True

    # --- sending ----------------------------------------------------------------------------

    def offer(self, entry: Entry) -> None:
        """Queue ``entry`` if this client should get it and has not got it yet (never blocks)."""
        if self.held is not None:
            self.held.append(entry)
            return
        self.deliver(entry)

    def deliver(self, entry: Entry) -> None:
        """Queue ``entry`` unless it is not for this client or was queued before (replay too)."""
        key = entry.key
        if key <= self.last_key:
            return
        self.last_key = key
        if entry.type == PREFERENCES_CHANGED and entry.user_id == self.user_id:
            self.preferences = Preferences.from_data(json.loads(entry.wire)["data"])
        if self.wants(entry):
            self.push(entry.wire)

    def release_held(self) -> None:
        """End of replay: queue the live entries that arrived meanwhile (duplicates dropped)."""
        held, self.held = self.held or [], None
        for entry in held:
            self.deliver(entry)

    def push(self, text: str) -> None:
        """Queue a message; a full queue closes the connection as too slow."""
        if self.closing.done():
            return
        try:
            self.queue.put_nowait(text)
        except asyncio.QueueFull:
            self.close(CloseCode.TOO_SLOW, "too slow: send queue overflow")

    def push_json(self, message: dict[str, Any]) -> None:
        self.push(json.dumps(message, separators=(",", ":"), default=str))

    def close(self, code: int, reason: str) -> None:
        """Ask the connection's handler to close with ``code`` (first request wins)."""
        if not self.closing.done():
            self.closing.set_result((code, reason))

    async def write_forever(self) -> None:
        """Drain the queue to the socket; a send stalled for ``send_timeout`` closes as too slow."""
        sent = metrics.SENT.labels(self.audience.value)
        while True:
            text = await self.queue.get()
            try:
                # asyncio.timeout, not wait_for: no extra task per message (1,000 clients!).
                async with asyncio.timeout(self.send_timeout):
                    await self.websocket.send_text(text)
            except TimeoutError:
                self.close(CloseCode.TOO_SLOW, "too slow: send stalled")
                return
            except WebSocketDisconnect:
                self.close(CloseCode.GOING_AWAY, "client disconnected")
                return
            self.sent += 1
            sent.inc()

    def replay_start(self, last_event_id: str) -> None:
        self.last_key = id_key(last_event_id)
        self.held = []
