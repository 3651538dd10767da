"""One WebSocket session from handshake to close.

Authentication: the access token comes in the ``Sec-WebSocket-Protocol`` header, which is what a
browser can send (``new WebSocket(url, ["cryptopredict.v1", "bearer." + token])``; the server
answers with ``cryptopredict.v1``, never echoing the token), or in the ``token`` query parameter
(the gateway and the service log paths only, never query strings). The handshake is accepted
first so that a refusal carries a close code a browser can read: 4001 (authentication failed),
4003 (admin privileges required). While the connection is open, the token's expiry or its
revocation closes it with 4002; a client too slow to keep up is closed with 4008.

Order of what a client gets: the stream's ``*_init`` snapshot, then (with ``last_event_id``)
the entries it missed followed by ``{"type": "replay_complete"}``, then live entries, heartbeats
and answers to its own messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime
from typing import Any

from starlette.websockets import WebSocket, WebSocketState

from cp_common.errors import ServiceError
from cp_common.http.fleet_health import fleet_status
from cp_common.security import Principal, Role
from notification_service import metrics, protocol
from notification_service import repository as repo
from notification_service.bus import valid_id
from notification_service.components import NotificationComponents
from notification_service.connection import CloseCode, Connection
from notification_service.hub import seconds_until
from notification_service.notices import Audience

log = logging.getLogger(__name__)

APP_PROTOCOL = "cryptopredict.v1"
BEARER_PREFIX = "bearer."
INIT_TYPES = {
    Audience.DASHBOARD: "dashboard_init",
    Audience.SIGNALS: "signals_init",
    Audience.ADMIN: "system_status_init",
}
CLOSE_TIMEOUT_S = 2.0
#: Active signals an init message carries (newest first), out of the newest scanned.
INIT_SIGNALS = 50
INIT_SIGNALS_SCANNED = 500
INIT_ANALYSIS_CHARS = 1000


def credentials(websocket: WebSocket) -> tuple[str | None, str | None]:
    """The offered token and the subprotocol to answer with (never the token's)."""
    offered: list[str] = list(websocket.scope.get("subprotocols") or ())
    token = next((p[len(BEARER_PREFIX) :] for p in offered if p.startswith(BEARER_PREFIX)), None)
    if token is None:
        token = websocket.query_params.get("token")
    answer = APP_PROTOCOL if APP_PROTOCOL in offered else None
    return token or None, answer


async def _authenticate(components: NotificationComponents, token: str | None) -> Principal | None:
    verifier = components.verifier
    if token is None or verifier is None:
        return None
    try:
        return await verifier.verify(token)
    except ServiceError as exc:
        log.info("websocket refused", extra={"reason": str(exc)})
        return None


async def _refuse(websocket: WebSocket, code: CloseCode, reason: str, label: str) -> None:
    metrics.CLOSED.labels(label).inc()
    await websocket.close(code, reason)


async def serve(websocket: WebSocket, components: NotificationComponents, audience: Audience) -> None:
    token, subprotocol = credentials(websocket)
    await websocket.accept(subprotocol=subprotocol)
    principal = await _authenticate(components, token)
    if principal is None:
        await _refuse(websocket, CloseCode.AUTH_FAILED, "Authentication failed", "auth_failed")
        return
    if audience is Audience.ADMIN and principal.role is not Role.ADMIN:
        await _refuse(websocket, CloseCode.FORBIDDEN, "Admin privileges required", "forbidden")
        return
    last_event_id = websocket.query_params.get("last_event_id") or None
    if last_event_id is not None and not valid_id(last_event_id):
        await _refuse(websocket, CloseCode.POLICY_VIOLATION, "invalid last_event_id", "bad_request")
        return
    settings = components.settings
    connection = Connection(
        websocket,
        principal,
        audience,
        await repo.get_preferences(components.pool, principal.user_id),
        settings.notification_ws_send_queue,
        settings.notification_ws_send_timeout_s,
    )
    await Session(components, connection).run(last_event_id)


class Session:
    def __init__(self, components: NotificationComponents, connection: Connection) -> None:
        self.components = components
        self.connection = connection

    async def run(self, last_event_id: str | None) -> None:
        connection, hub = self.connection, self.components.hub
        writer = asyncio.create_task(connection.write_forever())
        tasks: list[asyncio.Future[Any]] = [writer]
        try:
            connection.push_json(await self.init_message())
            replay = await hub.attach(connection, last_event_id)
            if last_event_id is not None:
                connection.push_json({"type": "replay_complete", "data": replay})
            reader = asyncio.create_task(self.read_forever())
            expiry = asyncio.create_task(asyncio.sleep(seconds_until(connection.principal.expires_at)))
            tasks += [reader, expiry]
            await asyncio.wait([*tasks, connection.closing], return_when=asyncio.FIRST_COMPLETED)
            if expiry.done() and not connection.closing.done():
                connection.close(CloseCode.SESSION_ENDED, "token expired")
        finally:
            hub.detach(connection)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self._close()

    async def _close(self) -> None:
        websocket = self.websocket
        if websocket.application_state is WebSocketState.DISCONNECTED:
            return
        if websocket.client_state is WebSocketState.DISCONNECTED:
            return
        code, reason = (
            self.connection.closing.result()
            if self.connection.closing.done()
            else (CloseCode.GOING_AWAY, "server going away")
        )
        metrics.CLOSED.labels(_label(code, reason)).inc()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(websocket.close(code, reason), CLOSE_TIMEOUT_S)

    @property
    def websocket(self) -> WebSocket:
        return self.connection.websocket

    async def read_forever(self) -> None:
        """Answer the client's messages until it disconnects."""
        settings = self.components.settings
        while True:
            message = await self.websocket.receive()
            if message["type"] == "websocket.disconnect":
                self.connection.close(CloseCode.GOING_AWAY, "client disconnected")
                return
            text = message.get("text")
            if text is None:
                text = (message.get("bytes") or b"").decode("utf-8", errors="replace")
            if len(text) > settings.notification_ws_max_message_bytes:
                self.connection.close(CloseCode.MESSAGE_TOO_BIG, "message too big")
                return
            reply = await protocol.answer(
                self.connection,
                text,
                signals=self._signals_of,
                max_symbols=settings.notification_ws_max_subscriptions,
            )
            self.connection.push_json(reply)

    async def _signals_of(self, symbol: str) -> list[dict[str, Any]]:
        return await repo.active_signals(self.components.pool, symbol=symbol, limit=50)

    async def init_message(self) -> dict[str, Any]:
        connection, components = self.connection, self.components
        data: dict[str, Any] = {
            "user_id": connection.user_id,
            "role": connection.principal.role.value,
            "preferences": connection.preferences.as_data(),
            "last_event_id": components.hub.position,
            "close_codes": {code.name.lower(): int(code) for code in CloseCode},
        }
        latest = await components.handlers.latest()
        if connection.audience is Audience.DASHBOARD:
            data["layers"] = {"layer1": latest.get("layer1_update"), "layer2": latest.get("layer2_update")}
            data["last_cascade"] = latest.get("cascade_update")
            data["active_signals"] = await self._routed_signals()
        elif connection.audience is Audience.SIGNALS:
            data["active_signals"] = await self._routed_signals()
        else:
            readiness = await components.fleet.readiness()
            data["system"] = {
                "status": fleet_status(readiness),
                "services": {name: {"ready": ok} for name, ok in readiness.items()},
                "websocket_connections": len(components.hub.connections),
                "last_cascade": latest.get("cascade_update"),
            }
        return {
            "type": INIT_TYPES[connection.audience],
            "timestamp": datetime.now(UTC).isoformat(),
            "data": data,
        }

    async def _routed_signals(self) -> list[dict[str, Any]]:
        signals = await repo.active_signals(self.components.pool, limit=INIT_SIGNALS_SCANNED)
        routed = [s for s in signals if self.connection.accepts_signal(s.get("symbol"), s.get("confidence"))]
        return [_bounded(s) for s in routed[:INIT_SIGNALS]]


def _bounded(signal: dict[str, Any]) -> dict[str, Any]:
    """A signal for a snapshot: the reasoning text cut short (the live message has all of it),
    so that an init message stays small however long analyses get."""
    text = signal.get("ai_analysis")
    if isinstance(text, str) and len(text) > INIT_ANALYSIS_CHARS:
        return {**signal, "ai_analysis": text[:INIT_ANALYSIS_CHARS] + "…", "ai_analysis_truncated": True}
    return signal


def _label(code: int, reason: str) -> str:
    if code == CloseCode.SESSION_ENDED:
        return "revoked" if "revoked" in reason else "expired"
    labels: dict[int, str] = {
        CloseCode.TOO_SLOW: "too_slow",
        CloseCode.GOING_AWAY: "going_away",
        CloseCode.MESSAGE_TOO_BIG: "too_big",
    }
    return labels.get(code, "other")
