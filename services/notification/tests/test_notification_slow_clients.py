"""A client that stops reading is cut off (4008) and never delays anyone else.

The slow client is a real WebSocket client that never calls ``recv()``: once its small incoming
queue is full it stops reading the socket, the kernel buffers fill, and the server's sends to it
block. Large signals (64 KB of analysis text each) get there quickly.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import socket
import uuid
from collections.abc import AsyncIterator

import pytest

from cp_common import topics
from cp_common.kafka import EventProducer
from notification_service import metrics

from .notification_testing import (
    RunningNotification,
    TokenIssuer,
    new_signal,
    producer,
    receive_json,
    running_notification,
    ws_connect,
)

SIGNALS = "/api/v1/ws/signals"
EVENTS = 120
ANALYSIS = "x" * 65_536


@pytest.fixture(scope="module")
async def events(kafka_bootstrap_servers: str) -> AsyncIterator[EventProducer]:
    async with producer(kafka_bootstrap_servers) as running:
        yield running


@contextlib.asynccontextmanager
async def _never_reading_client(port: int, token: str, symbol: str) -> AsyncIterator[socket.socket]:
    """A WebSocket client that completes the handshake, subscribes, and never reads again
    (a small fixed receive buffer, so the kernel does not absorb megabytes for it)."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16_384)
    sock.setblocking(False)
    loop = asyncio.get_running_loop()
    await loop.sock_connect(sock, ("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        f"GET {SIGNALS} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
        f"Sec-WebSocket-Protocol: cryptopredict.v1, bearer.{token}\r\n\r\n"
    )
    await loop.sock_sendall(sock, request.encode())
    answer = b""
    while b"\r\n\r\n" not in answer:
        answer += await loop.sock_recv(sock, 1)
    assert answer.startswith(b"HTTP/1.1 101"), answer
    payload = f'{{"type": "subscribe", "symbols": ["{symbol}"]}}'.encode()
    mask = os.urandom(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    await loop.sock_sendall(sock, bytes([0x81, 0x80 | len(payload)]) + mask + masked)
    try:
        yield sock
    finally:
        sock.close()


def _too_slow_closes() -> float:
    return metrics.CLOSED.labels("too_slow")._value.get()


async def _subscribe(ws, symbol: str) -> None:
    await receive_json(ws)
    await ws.send(f'{{"type": "subscribe", "symbols": ["{symbol}"]}}')
    await receive_json(ws)


async def _cut_off_while_the_other_keeps_receiving(
    service: RunningNotification, issuer: TokenIssuer, events: EventProducer
) -> tuple[bool, str]:
    """(was the slow client still connected when the fast one had everything, close reason)"""
    symbol = "S" + uuid.uuid4().hex[:6].upper()
    changes = [new_signal(symbol, analysis=ANALYSIS) for _ in range(EVENTS)]
    wanted = {c.signal.signal_id for c in changes}
    before = _too_slow_closes()
    slow_user = f"slow-{uuid.uuid4().hex[:8]}"
    async with (
        _never_reading_client(service.port, issuer.token(user_id=slow_user), symbol),
        ws_connect(f"{service.ws_url}{SIGNALS}", issuer.token(), max_size=None) as fast,
    ):
        await _subscribe(fast, symbol)
        hub = service.components.hub
        await asyncio.sleep(0.5)  # the never-reading client's subscription is handled
        slow_connection = next(c for c in hub.connections if c.user_id == slow_user)
        assert slow_connection.subscribed == {symbol}

        async def publish() -> None:
            for change in changes:
                await events.publish(topics.SIGNALS.name, change)

        publisher = asyncio.create_task(publish())
        got: set[str] = set()
        while got != wanted:
            message = await receive_json(fast, timeout=30)
            if message.get("type") == "new_signal":
                got.add(message["data"]["signal_id"])
        slow_open_when_fast_done = not slow_connection.closing.done()
        await publisher
        # The slow client's connection is closed by the server as too slow.
        for _ in range(600):
            if _too_slow_closes() > before:
                break
            await asyncio.sleep(0.1)
        assert _too_slow_closes() == before + 1
        assert slow_connection.closing.result()[0] == 4008
        assert slow_connection.sent < EVENTS
    return slow_open_when_fast_done, slow_connection.closing.result()[1]


async def test_a_stalled_send_cuts_the_slow_client_off_and_the_fast_one_gets_everything_first(
    notification_settings, issuer: TokenIssuer, events: EventProducer
) -> None:
    """A huge queue, a 30 s send timeout: the fast client has every event while the slow one is
    still waiting to be cut off, so the stalled client delayed nothing."""
    settings = notification_settings(notification_ws_send_queue=100_000, notification_ws_send_timeout_s=30.0)
    async with running_notification(settings) as service:
        slow_still_open, reason = await _cut_off_while_the_other_keeps_receiving(service, issuer, events)
    assert slow_still_open is True
    assert reason == "too slow: send stalled"


async def test_an_overflowing_queue_cuts_the_slow_client_off(
    notification_settings, issuer: TokenIssuer, events: EventProducer
) -> None:
    settings = notification_settings(notification_ws_send_queue=8, notification_ws_send_timeout_s=60.0)
    async with running_notification(settings) as service:
        _, reason = await _cut_off_while_the_other_keeps_receiving(service, issuer, events)
        assert reason == "too slow: send queue overflow"
