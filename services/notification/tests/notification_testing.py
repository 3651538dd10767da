"""Helpers for the notification tests: tokens from a test signing key served as a real JWKS, the
service run by uvicorn on a real port (WebSockets need a socket), events published to the real
broker with the shared producer, a WebSocket client, and a local webhook receiver."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import uvicorn
from cryptography.hazmat.primitives.asymmetric import ed25519
from google.protobuf.timestamp_pb2 import Timestamp
from jwt.algorithms import OKPAlgorithm
from websockets.asyncio.client import ClientConnection, connect

from cp_common.kafka import EventProducer
from cryptopredict.common.v1 import signals_pb2 as common_signals
from cryptopredict.events.v1 import signals_pb2
from notification_service.app import create_app
from notification_service.components import COMPONENTS_KEY, NotificationComponents
from notification_service.settings import NotificationSettings

ISSUER = "cryptopredict-auth"
AUDIENCE = "cryptopredict"
APP_PROTOCOL = "cryptopredict.v1"


@dataclass
class TokenIssuer:
    """Signs access tokens with a test Ed25519 key whose JWKS is served on ``jwks_url``."""

    key: ed25519.Ed25519PrivateKey = field(default_factory=ed25519.Ed25519PrivateKey.generate)
    kid: str = "test-ed-1"
    jwks_url: str = ""

    def jwks(self) -> bytes:
        jwk = OKPAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
        jwk.update({"kid": self.kid, "alg": "EdDSA", "use": "sig"})
        return json.dumps({"keys": [jwk]}).encode()

    def token(
        self, *, user_id: str | None = None, role: str = "casual", ttl_s: int = 300, **extra: Any
    ) -> str:
        now = int(time.time())
        claims = {
            "sub": user_id or f"user-{uuid.uuid4().hex[:8]}",
            "role": role,
            "email": "someone@example.com",
            "iat": now,
            "exp": now + ttl_s,
            "jti": uuid.uuid4().hex,
            "iss": ISSUER,
            "aud": AUDIENCE,
            **extra,
        }
        return jwt.encode(claims, self.key, algorithm="EdDSA", headers={"kid": self.kid})


@contextlib.contextmanager
def serve_jwks(issuer: TokenIssuer) -> Iterator[TokenIssuer]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = issuer.jwks()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    issuer.jwks_url = f"http://127.0.0.1:{server.server_address[1]}/.well-known/jwks.json"
    try:
        yield issuer
    finally:
        server.shutdown()
        server.server_close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class RunningNotification:
    settings: NotificationSettings
    server: uvicorn.Server
    app: Any

    @property
    def port(self) -> int:
        return self.settings.http_port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    @property
    def components(self) -> NotificationComponents:
        found: NotificationComponents = self.app.state.runtime.extras[COMPONENTS_KEY]
        return found


@contextlib.asynccontextmanager
async def running_notification(settings: NotificationSettings) -> AsyncIterator[RunningNotification]:
    app = create_app(settings, consumer_group=f"notification-test-{uuid.uuid4().hex[:8]}")
    config = uvicorn.Config(app, host="127.0.0.1", port=settings.http_port, log_config=None, lifespan="on")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    deadline = time.monotonic() + 60
    while not server.started:
        if task.done():
            task.result()
        if time.monotonic() > deadline:
            raise TimeoutError("notification service did not start")
        await asyncio.sleep(0.05)
    running = RunningNotification(settings, server, app)
    await running.components.hub.ready.wait()
    try:
        yield running
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 30)


def timestamp(seconds: float | None = None) -> Timestamp:
    stamp = Timestamp()
    stamp.FromSeconds(int(seconds if seconds is not None else time.time()))
    return stamp


def new_signal(
    symbol: str, *, confidence: float = 0.8, analysis: str = "", signal_id: str | None = None
) -> signals_pb2.SignalChanged:
    signal = common_signals.Signal(
        signal_id=signal_id or str(uuid.uuid4()),
        symbol=symbol,
        signal_type=common_signals.SIGNAL_TYPE_LONG,
        status=common_signals.SIGNAL_STATUS_ACTIVE,
        entry_price=100.0,
        target_price=110.0,
        stop_loss=95.0,
        confidence=confidence,
        risk_reward_ratio=2.0,
        position_size=0.05,
        time_horizon_hours=24,
        generated_at=timestamp(),
        expires_at=timestamp(time.time() + 86400),
        ai_analysis=analysis,
        consensus_strength=0.8,
        model_version="test",
    )
    return signals_pb2.SignalChanged(
        signal=signal, generated=signals_pb2.SignalGenerated(participating_voters=3)
    )


def closed_signal(change: signals_pb2.SignalChanged, exit_price: float = 110.0) -> signals_pb2.SignalChanged:
    signal = common_signals.Signal()
    signal.CopyFrom(change.signal)
    signal.status = common_signals.SIGNAL_STATUS_TARGET_HIT
    closed = signals_pb2.SignalClosed(
        final_status=common_signals.SIGNAL_STATUS_TARGET_HIT,
        exit_price=exit_price,
        closed_at=timestamp(),
        return_pct=0.1,
    )
    return signals_pb2.SignalChanged(signal=signal, closed=closed)


@contextlib.asynccontextmanager
async def producer(bootstrap: str) -> AsyncIterator[EventProducer]:
    events = EventProducer(bootstrap, client_id=f"notification-test-{uuid.uuid4().hex[:6]}")
    await events.start()
    try:
        yield events
    finally:
        await events.stop()


def ws_connect(url: str, token: str | None = None, *, via: str = "subprotocol", **kwargs: Any) -> Any:
    """Open a WebSocket the way a browser does (token as a subprotocol) or with ``?token=``."""
    if token is not None and via == "query":
        separator = "&" if "?" in url else "?"
        return connect(f"{url}{separator}token={token}", **kwargs)
    protocols = [APP_PROTOCOL, f"bearer.{token}"] if token is not None else [APP_PROTOCOL]
    return connect(url, subprotocols=protocols, **kwargs)  # type: ignore[arg-type]


async def receive_json(ws: ClientConnection, timeout: float = 10.0) -> dict[str, Any]:
    message = json.loads(await asyncio.wait_for(ws.recv(), timeout))
    assert isinstance(message, dict)
    return message


async def receive_until(
    ws: ClientConnection, predicate: Any, *, timeout: float = 20.0
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Read until ``predicate(message)``; that message and everything read before it."""
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"no matching message; saw types {[m.get('type') for m in seen]}")
        message = await receive_json(ws, remaining)
        if predicate(message):
            return message, seen
        seen.append(message)


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


class WebhookReceiver:
    """A real HTTP server on 127.0.0.1 that records POSTs and answers with ``status``."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.received: list[Received] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                receiver.received.append(Received(self.path, dict(self.headers.items()), body))
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/hook"

    def __enter__(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
