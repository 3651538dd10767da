"""Notification benchmark: 1,000 concurrent WebSocket clients on loopback.

The service runs as a real process on embedded PostgreSQL, Redis and Kafka; every client
connects to it directly (the gateway's per-IP WebSocket rate limit, 10 r/s, would otherwise be
what is measured) and subscribes to the benchmark's symbol. Signals are published to the broker
one at a time, each carrying its publish time; every client records when it received each one.

Figures: Kafka-publish-to-client-receipt latency p50/p99 over every (event, client) pair with
1,000 clients, against the same measurement with a single client in the same run (the ratio is
what fan-out costs); the spread between the first and the last client per event; the server's
resident memory per open connection, against a bare WebSocket app on the same uvicorn +
Starlette stack (``ws_baseline_app.py``) with as many connections; and how long 1,000
handshakes took. The clients all run in
this one process (sharing a core with the broker and the service on this machine), so client-side
processing is part of the latency: a conservative figure.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
import psutil
from cryptography.hazmat.primitives.asymmetric import ed25519
from jwt.algorithms import OKPAlgorithm
from websockets.asyncio.client import ClientConnection, connect

from cp_common import topics
from cp_common.kafka import EventProducer, ensure_topics
from cp_common.security.denylist import mark_empty_redis_primed
from cp_fleet.embedded import EmbeddedInfra, find_free_port
from cp_fleet.processes import ServerCommand, ServerProcess
from cp_fleet.readiness import http_status
from cryptopredict.common.v1 import signals_pb2 as common_signals
from cryptopredict.events.v1 import signals_pb2

CLIENTS = 1000
EVENTS = 40
EVENT_GAP_S = 0.25
BASELINE_EVENTS = 40
SYMBOL = "BENCH"
CONNECT_CONCURRENCY = 50


def _percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


@contextlib.contextmanager
def _jwks() -> Iterator[tuple[str, ed25519.Ed25519PrivateKey]]:
    key = ed25519.Ed25519PrivateKey.generate()
    jwk = OKPAlgorithm.to_jwk(key.public_key(), as_dict=True)
    jwk.update({"kid": "bench", "alg": "EdDSA", "use": "sig"})
    body = json.dumps({"keys": [jwk]}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/.well-known/jwks.json", key
    finally:
        server.shutdown()
        server.server_close()


def _token(key: ed25519.Ed25519PrivateKey) -> str:
    now = int(time.time())
    claims = {
        "sub": "bench-user",
        "role": "professional",
        "email": "bench@example.com",
        "iat": now,
        "exp": now + 3600,
        "jti": uuid.uuid4().hex,
        "iss": "cryptopredict-auth",
        "aud": "cryptopredict",
    }
    return jwt.encode(claims, key, algorithm="EdDSA", headers={"kid": "bench"})


def _start_service(state_dir: Path, infra_env: dict[str, str], port: int, jwks_url: str) -> ServerProcess:
    env = {
        **infra_env,
        "SERVICE_NAME": "notification",
        "ENVIRONMENT": "test",
        "HTTP_PORT": str(port),
        "JWKS_URL": jwks_url,
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }
    command = ServerCommand(
        name="notification",
        argv=(sys.executable, "-m", "notification_service"),
        readiness=http_status(f"http://127.0.0.1:{port}/readyz"),
        env=env,
        cwd=state_dir,
        port=port,
        start_timeout_s=90,
    )
    process = ServerProcess(command, state_dir / "logs" / "notification.log", state_dir)
    process.start()
    process.wait_ready()
    return process


def _start_baseline(state_dir: Path, port: int) -> ServerProcess:
    """The memory baseline: a bare WebSocket app on the same uvicorn + Starlette stack."""
    command = ServerCommand(
        name="ws-baseline",
        argv=(
            sys.executable,
            "-m",
            "uvicorn",
            "ws_baseline_app:app",
            "--app-dir",
            str(Path(__file__).parent),
            "--port",
            str(port),
            "--log-level",
            "warning",
        ),
        readiness=http_status(f"http://127.0.0.1:{port}/", expected=404),
        env={"PYTHONUNBUFFERED": "1"},
        cwd=state_dir,
        port=port,
        start_timeout_s=30,
    )
    process = ServerProcess(command, state_dir / "logs" / "ws-baseline.log", state_dir)
    process.start()
    process.wait_ready()
    return process


async def _baseline_memory_kib(state_dir: Path, token: str) -> float:
    """Server memory per connection of the bare WebSocket app, ``CLIENTS`` connections."""
    port = find_free_port()
    process = _start_baseline(state_dir, port)
    clients: list[Client] = []
    try:
        server = psutil.Process(process.pid)
        rss_before = server.memory_info().rss
        clients, _ = await _open_many(f"ws://127.0.0.1:{port}/api/v1/ws/signals", token, CLIENTS)
        await asyncio.sleep(2.0)
        return (server.memory_info().rss - rss_before) / CLIENTS / 1024
    finally:
        await _close(clients)
        process.stop()


class Client:
    """One WebSocket client recording the receipt time of each benchmark signal (and the time
    its bus entry was appended, the millisecond part of the stream id)."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.received: dict[str, float] = {}
        self.appended: dict[str, float] = {}
        self.all_in = asyncio.Event()
        self.expected = 0
        self.task: asyncio.Task[None] | None = None

    async def read(self) -> None:
        async for raw in self.ws:
            now = time.time()
            if '"new_signal"' not in raw:
                continue
            message = json.loads(raw)
            signal_id = message["data"]["signal_id"]
            self.received[signal_id] = now
            self.appended[signal_id] = int(message["id"].split("-")[0]) / 1000
            if len(self.received) >= self.expected:
                self.all_in.set()


async def _open(url: str, token: str) -> Client:
    ws = await connect(
        url, subprotocols=["cryptopredict.v1", f"bearer.{token}"], open_timeout=120, max_size=None
    )  # type: ignore[list-item]
    await ws.recv()  # signals_init
    await ws.send(json.dumps({"type": "subscribe", "symbols": [SYMBOL]}))
    await ws.recv()  # subscription_confirmed
    client = Client(ws)
    client.task = asyncio.create_task(client.read())
    return client


async def _open_many(url: str, token: str, count: int) -> tuple[list[Client], float]:
    limit = asyncio.Semaphore(CONNECT_CONCURRENCY)

    async def one() -> Client:
        async with limit:
            return await _open(url, token)

    started = time.perf_counter()
    clients = await asyncio.gather(*(one() for _ in range(count)))
    return list(clients), time.perf_counter() - started


def _signal() -> signals_pb2.SignalChanged:
    signal = common_signals.Signal(
        signal_id=str(uuid.uuid4()),
        symbol=SYMBOL,
        signal_type=common_signals.SIGNAL_TYPE_LONG,
        status=common_signals.SIGNAL_STATUS_ACTIVE,
        entry_price=100.0,
        target_price=105.0,
        stop_loss=98.0,
        confidence=0.8,
        time_horizon_hours=24,
        ai_analysis="momentum and breadth agree",
    )
    return signals_pb2.SignalChanged(
        signal=signal, generated=signals_pb2.SignalGenerated(participating_voters=3)
    )


async def _measure(producer: EventProducer, clients: list[Client], events: int) -> dict[str, float]:
    published: dict[str, float] = {}
    for client in clients:
        client.expected = events
        client.all_in.clear()
    for _ in range(events):
        change = _signal()
        published[change.signal.signal_id] = time.time()
        await producer.publish(topics.SIGNALS.name, change)
        await asyncio.sleep(EVENT_GAP_S)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.gather(*(c.all_in.wait() for c in clients)), 60)
    for client in clients:
        client_missing = set(published) - set(client.received)
        if client_missing:
            raise RuntimeError(f"a client missed {len(client_missing)} of {events} events")
    latencies = [c.received[sid] - at for c in clients for sid, at in published.items()]
    # Stream ids carry Redis' clock in milliseconds: the split is good to about a millisecond.
    to_bus = [clients[0].appended[sid] - at for sid, at in published.items()]
    bus_to_client = [c.received[sid] - c.appended[sid] for c in clients for sid in published]
    spreads = []
    for sid in published:
        times = [c.received[sid] for c in clients]
        spreads.append(max(times) - min(times))
    for client in clients:
        client.received.clear()
        client.appended.clear()
    return {
        "p50_ms": _ms(statistics.median(latencies)),
        "p99_ms": _ms(_percentile(latencies, 0.99)),
        "max_ms": _ms(max(latencies)),
        "fanout_spread_p50_ms": _ms(statistics.median(spreads)),
        "kafka_to_bus_p50_ms": _ms(statistics.median(to_bus)),
        "bus_to_client_p50_ms": _ms(statistics.median(bus_to_client)),
        "samples": len(latencies),
    }


async def _close(clients: list[Client]) -> None:
    for client in clients:
        if client.task is not None:
            client.task.cancel()
    await asyncio.gather(*(c.ws.close() for c in clients), return_exceptions=True)


def _state_dir() -> Path:
    path = Path(tempfile.mkdtemp(prefix="cp-bench-notification-")).resolve()
    path.chmod(0o755)
    return path


async def run() -> dict:
    state_dir = _state_dir()
    environ = {k: v for k, v in os.environ.items() if k != "CP_STATE_DIR"}
    infra = EmbeddedInfra(state_dir, environ=environ, durable=False)
    process: ServerProcess | None = None
    clients: list[Client] = []
    try:
        infra_env = infra.start().as_env()
        mark_empty_redis_primed(infra_env["REDIS_URL"])  # no auth here to prime the denylist
        await ensure_topics(infra_env["KAFKA_BOOTSTRAP_SERVERS"], [topics.SIGNALS.name])
        with _jwks() as (jwks_url, key):
            port = find_free_port()
            process = _start_service(state_dir, infra_env, port, jwks_url)
            server = psutil.Process(process.pid)
            url = f"ws://127.0.0.1:{port}/api/v1/ws/signals"
            token = _token(key)
            producer = EventProducer(infra_env["KAFKA_BOOTSTRAP_SERVERS"], client_id="bench-notification")
            await producer.start()
            try:
                one, _ = await _open_many(url, token, 1)
                await _measure(producer, one, 5)  # warm-up: consumer group joined, JWKS cached
                baseline = await _measure(producer, one, BASELINE_EVENTS)
                await _close(one)
                await asyncio.sleep(1.0)
                rss_before = server.memory_info().rss
                clients, connect_s = await _open_many(url, token, CLIENTS)
                await asyncio.sleep(2.0)
                rss_after = server.memory_info().rss
                loaded = await _measure(producer, clients, EVENTS)
            finally:
                await _close(clients)
                await producer.stop()
            baseline_kib = await _baseline_memory_kib(state_dir, token)
        per_connection_kib = (rss_after - rss_before) / CLIENTS / 1024
        return {
            "clients": CLIENTS,
            "events": EVENTS,
            "latency_1000_clients": loaded,
            "latency_1_client": baseline,
            "p50_ratio_1000_vs_1": round(loaded["p50_ms"] / baseline["p50_ms"], 2),
            "p99_ratio_1000_vs_1": round(loaded["p99_ms"] / baseline["p99_ms"], 2),
            "server_memory_per_connection_kib": round(per_connection_kib, 1),
            "bare_websocket_app_memory_per_connection_kib": round(baseline_kib, 1),
            "memory_ratio_vs_bare_app": round(per_connection_kib / baseline_kib, 2),
            "server_rss_with_1000_clients_mib": round(rss_after / 2**20, 1),
            "connect_1000_seconds": round(connect_s, 2),
            "handshakes_per_s": round(CLIENTS / connect_s, 1),
            # A shared 2-core machine: the 1-minute load average says how much CPU there was.
            "load_average_1min": round(os.getloadavg()[0], 2),
        }
    finally:
        if process is not None:
            process.stop()
        infra.stop()
        shutil.rmtree(state_dir, ignore_errors=True)
