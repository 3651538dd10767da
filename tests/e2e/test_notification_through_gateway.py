"""The notification service in a real local fleet (supervisord, PostgreSQL, Redis, Kafka, Nginx,
auth), used through the gateway with tokens from the real auth service.

The layer services and orchestrator that produce signals are not part of this fleet: the test
publishes ``signals.v1`` events to the fleet's broker with the shared producer, exactly as Layer
4 does. Covered: a new signal reaching a WebSocket client through the gateway, a local
webhook receiver (signature verified) and a browser push subscription (a local push service
verifying the VAPID signature and decrypting the message), 4001/4003 at the gateway, headless
Chromium opening the signals stream the way a frontend does, and two replicas (one started next to the fleet's,
then killed) with every event delivered exactly once per client and nothing lost on reconnect.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from cp_common import topics
from cp_common.kafka import EventProducer
from cp_fleet.catalog import Catalog, ServiceEntry, load_catalog
from cp_fleet.fleet import Fleet
from cp_fleet.layout import DEFAULT_CATALOG
from cp_fleet.processes import ServerCommand, ServerProcess
from cp_fleet.readiness import http_status
from cp_testing.fleets import FleetHandle, free_port_offset
from cp_testing.webpush import LocalPushService
from cryptopredict.common.v1 import signals_pb2 as common_signals
from cryptopredict.events.v1 import signals_pb2
from notification_service.webhooks import signing

pytestmark = pytest.mark.slow

PASSWORD = "Notify-Path-2024!"
INFRA_VARIABLES = ("DATABASE_URL", "REDIS_URL", "KAFKA_BOOTSTRAP_SERVERS", "CP_STATE_DIR")
APP_PROTOCOL = "cryptopredict.v1"
SIGNALS = "/api/v1/ws/signals"


def _catalog() -> Catalog:
    """The deploy catalog's gateway, auth and notification entries."""
    data = load_catalog(DEFAULT_CATALOG).model_dump(mode="json")
    data["services"] = [s for s in data["services"] if s["name"] in ("auth", "notification")]
    return Catalog.model_validate(data)


@dataclass
class NotifyFleet(FleetHandle):
    secrets: list[str] = field(default_factory=list)

    @property
    def ws_gateway(self) -> str:
        return self.gateway.replace("http://", "ws://")

    @property
    def notification(self) -> ServiceEntry:
        return next(s for s in self.fleet.catalog.services if s.name == "notification")

    @property
    def kafka(self) -> str:
        return self.fleet.infra_env()["KAFKA_BOOTSTRAP_SERVERS"]


@pytest.fixture(scope="module")
def notify_fleet() -> Iterator[NotifyFleet]:
    base = _catalog()
    offset = free_port_offset(base, start=1400, stop=13000, step=223)
    state_dir = Path(tempfile.mkdtemp(prefix="cp-notify-e2e-")).resolve()
    state_dir.chmod(0o755)
    environ = {k: v for k, v in os.environ.items() if k not in INFRA_VARIABLES}
    fleet = Fleet(base.shifted(offset), state_dir, environ=environ)
    try:
        fleet.up(log=lambda line: None)
        running = NotifyFleet(fleet)
        yield running
        _assert_no_secret_logged(state_dir, running.secrets)
    finally:
        fleet.down()
        shutil.rmtree(state_dir, ignore_errors=True)


def _assert_no_secret_logged(state_dir: Path, secrets: list[str]) -> None:
    for path in state_dir.rglob("*.log"):
        text = path.read_text(errors="replace")
        for secret in secrets:
            assert secret not in text, f"a token or secret appears in {path.name}"


@pytest.fixture(scope="module")
async def events(notify_fleet: NotifyFleet) -> AsyncIterator[EventProducer]:
    producer = EventProducer(notify_fleet.kafka, client_id="notification-e2e")
    await producer.start()
    yield producer
    await producer.stop()


async def _login(fleet: NotifyFleet, *, admin: bool = False) -> str:
    async with httpx.AsyncClient(base_url=fleet.gateway, timeout=60) as client:
        if admin:
            email = "admin@cryptopredict.local"
            password = (fleet.fleet.layout.state_dir / "auth-bootstrap-admin-password").read_text().strip()
            fleet.secrets.append(password)
        else:
            email, password = f"ws-{uuid.uuid4().hex[:10]}@example.com", PASSWORD
            registered = await client.post(
                "/api/v1/auth/register", json={"email": email, "password": password}
            )
            assert registered.status_code == 201, registered.text
        login = await client.post("/api/v1/auth/login", json={"email": email, "password": password})
        assert login.status_code == 200, login.text
    token: str = login.json()["data"]["access_token"]
    fleet.secrets.append(token)
    return token


def _ws(url: str, token: str) -> Any:
    return connect(url, subprotocols=[APP_PROTOCOL, f"bearer.{token}"], open_timeout=30)  # type: ignore[list-item]


async def _recv(ws: Any, timeout: float = 30.0) -> dict[str, Any]:
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))


async def _subscribe(ws: Any, symbol: str) -> None:
    assert (await _recv(ws))["type"].endswith("_init")
    await ws.send(json.dumps({"type": "subscribe", "symbols": [symbol]}))
    assert (await _recv(ws))["type"] == "subscription_confirmed"


async def _signals_of(ws: Any, symbol: str, count: int, timeout: float = 60.0) -> list[dict[str, Any]]:
    """The next ``count`` signal messages for ``symbol`` (anything else is skipped)."""
    found: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while len(found) < count:
        message = await _recv(ws, max(deadline - time.monotonic(), 0.1))
        if message.get("type") == "new_signal" and message["data"]["crypto_symbol"] == symbol:
            found.append(message)
    return found


def _signal(symbol: str) -> signals_pb2.SignalChanged:
    signal_ = common_signals.Signal(
        signal_id=str(uuid.uuid4()),
        symbol=symbol,
        signal_type=common_signals.SIGNAL_TYPE_LONG,
        status=common_signals.SIGNAL_STATUS_ACTIVE,
        entry_price=42000.0,
        target_price=44100.0,
        stop_loss=41000.0,
        confidence=0.81,
        time_horizon_hours=24,
    )
    return signals_pb2.SignalChanged(
        signal=signal_, generated=signals_pb2.SignalGenerated(participating_voters=4)
    )


def _symbol() -> str:
    return "E" + uuid.uuid4().hex[:6].upper()


async def _closed(ws: Any) -> tuple[int | None, str | None]:
    with pytest.raises(ConnectionClosed):
        while True:
            await asyncio.wait_for(ws.recv(), 30)
    return ws.close_code, ws.close_reason


# --- through the gateway -------------------------------------------------------------------------


class Receiver:
    """A local webhook receiver (the fleet's local config allows private targets)."""

    def __init__(self) -> None:
        self.bodies: list[tuple[dict[str, str], bytes]] = []
        self.server: asyncio.Server | None = None

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode().split("\r\n")[1:]
        headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines if line)}
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        self.bodies.append((headers, body))
        writer.write(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        await writer.drain()
        writer.close()

    async def __aenter__(self) -> Receiver:
        self.server = await asyncio.start_server(self.handle, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/hooks/cp"


async def test_a_new_signal_reaches_a_websocket_client_and_a_signed_webhook(
    notify_fleet: NotifyFleet, events: EventProducer
) -> None:
    token = await _login(notify_fleet)
    symbol = _symbol()
    headers = {"Authorization": f"Bearer {token}"}
    async with (
        Receiver() as receiver,
        httpx.AsyncClient(base_url=notify_fleet.gateway, headers=headers) as http,
    ):
        prefs = await http.put("/api/v1/notifications/preferences", json={"symbols": [symbol]})
        assert prefs.status_code == 200, prefs.text
        created = await http.post("/api/v1/notifications/webhooks", json={"url": receiver.url})
        assert created.status_code == 201, created.text
        secret = created.json()["data"]["secret"]
        notify_fleet.secrets.append(secret)
        async with _ws(f"{notify_fleet.ws_gateway}{SIGNALS}", token) as ws:
            assert ws.subprotocol == APP_PROTOCOL
            init = await _recv(ws)
            assert init["type"] == "signals_init" and init["data"]["preferences"]["symbols"] == [symbol]
            change = _signal(symbol)
            await events.publish(topics.SIGNALS.name, change)
            (message,) = await _signals_of(ws, symbol, 1)
            assert message["data"]["signal_id"] == change.signal.signal_id
            assert message["data"]["entry_price"] == 42000.0
        for _ in range(300):
            if receiver.bodies:
                break
            await asyncio.sleep(0.1)
        (hook_headers, body), *rest = receiver.bodies
        assert not rest
        assert signing.verify(secret, hook_headers[signing.SIGNATURE_HEADER.lower()], body)
        assert json.loads(body)["data"]["signal_id"] == change.signal.signal_id
        deliveries = (await http.get("/api/v1/notifications/deliveries")).json()["data"]
        assert deliveries[0]["status"] == "delivered"


async def test_a_new_signal_reaches_a_browser_push_subscription(
    notify_fleet: NotifyFleet, events: EventProducer
) -> None:
    """Subscribe through the gateway with the key it serves; the local push service verifies
    the VAPID signature and decrypts the message with the browser's key."""
    token = await _login(notify_fleet)
    symbol = _symbol()
    base = "/api/v1/notifications"
    async with httpx.AsyncClient(base_url=notify_fleet.gateway, timeout=30) as anonymous:
        served = await anonymous.get(f"{base}/vapid-public-key")
        assert served.status_code == 200, served.text
        key = served.json()["data"]["application_server_key"]
        refused = await anonymous.post(f"{base}/subscribe", json={})
        assert refused.status_code == 401 and refused.json()["success"] is False
    headers = {"Authorization": f"Bearer {token}"}
    async with (
        LocalPushService(key) as push,
        httpx.AsyncClient(base_url=notify_fleet.gateway, headers=headers, timeout=30) as http,
    ):
        browser = push.browser()
        bad = {**browser.subscription(), "keys": {"p256dh": browser.p256dh, "auth": "c2hvcnQ"}}
        answer = await http.post(f"{base}/subscribe", json=bad)
        assert answer.status_code == 422 and answer.json()["success"] is False
        assert (await http.put(f"{base}/preferences", json={"symbols": [symbol]})).status_code == 200
        created = await http.post(f"{base}/subscribe", json=browser.subscription())
        assert created.status_code == 201, created.text
        change = _signal(symbol)
        await events.publish(topics.SIGNALS.name, change)
        for _ in range(300):
            if push.received_by(browser) or push.refused:
                break
            await asyncio.sleep(0.1)
        assert push.refused == []
        (message,) = push.received_by(browser)
        assert message.claims["aud"] == push.origin
        assert message.payload["type"] == "new_signal"
        assert message.payload["data"]["signal_id"] == change.signal.signal_id
        assert message.payload["data"]["entry_price"] == 42000.0
        listed = (await http.get(f"{base}/subscriptions")).json()["data"]
        assert [s["id"] for s in listed] == [created.json()["data"]["id"]]


async def test_close_codes_at_the_gateway(notify_fleet: NotifyFleet) -> None:
    casual = await _login(notify_fleet)
    async with _ws(f"{notify_fleet.ws_gateway}/api/v1/ws/admin/system-status", casual) as ws:
        assert await _closed(ws) == (4003, "Admin privileges required")
    async with _ws(f"{notify_fleet.ws_gateway}{SIGNALS}", casual[:-3] + "abc") as ws:
        assert await _closed(ws) == (4001, "Authentication failed")
    query = f"{notify_fleet.ws_gateway}/api/v1/ws/dashboard?token=not-a-token"
    async with connect(query, open_timeout=30) as ws:
        assert (await _closed(ws))[0] == 4001
    # A real token in the query string works, and (checked at teardown) appears in no log file.
    async with connect(
        f"{notify_fleet.ws_gateway}/api/v1/ws/dashboard?token={casual}", open_timeout=30
    ) as ws:
        assert (await _recv(ws))["type"] == "dashboard_init"
    admin = await _login(notify_fleet, admin=True)
    async with _ws(f"{notify_fleet.ws_gateway}/api/v1/ws/admin/system-status", admin) as ws:
        init = await _recv(ws)
        assert init["type"] == "system_status_init"
        assert init["data"]["system"]["services"]["notification"]["ready"] is True


# --- a real browser ------------------------------------------------------------------------------

BROWSER_OPEN = """
new Promise((resolve, reject) => {
  window.cpMessages = [];
  const ws = new WebSocket(%(url)s, ["cryptopredict.v1", "bearer." + %(token)s]);
  window.cpSocket = ws;
  ws.onmessage = (event) => {
    const message = JSON.parse(event.data);
    window.cpMessages.push(message);
    if (message.type === "signals_init") resolve({protocol: ws.protocol, type: message.type});
  };
  ws.onclose = (event) => reject(new Error("closed " + event.code));
  setTimeout(() => reject(new Error("no signals_init")), 30000);
})
"""

BROWSER_WAIT = """
new Promise((resolve, reject) => {
  const started = Date.now();
  const look = () => {
    const found = window.cpMessages.find((m) => m.type === "new_signal" && m.data.signal_id === %(id)s);
    if (found) return resolve(found);
    if (Date.now() - started > 60000) return reject(new Error("no new_signal"));
    setTimeout(look, 50);
  };
  look();
})
"""


def _chromium() -> str | None:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None and os.environ.get("CI") == "true":
        pytest.fail("chromium is required under CI (make browser installs it)")
    return found


@pytest.fixture(scope="module")
def browser() -> Iterator[str]:
    """Headless Chromium with the DevTools protocol on; yields the page's DevTools URL."""
    binary = _chromium()
    if binary is None:
        pytest.skip("chromium is not installed (run `make browser`); required under CI=true")
    profile = tempfile.mkdtemp(prefix="cp-chromium-")
    process = subprocess.Popen(
        [
            binary,
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--remote-debugging-port=0",
            f"--user-data-dir={profile}",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert process.stderr is not None
        deadline = time.monotonic() + 60
        devtools = ""
        while time.monotonic() < deadline and not devtools:
            line = process.stderr.readline()
            if "DevTools listening on" in line:
                devtools = line.split("DevTools listening on", 1)[1].strip()
        assert devtools, "chromium did not start its DevTools endpoint"
        port = devtools.split(":")[2].split("/")[0]
        pages = httpx.get(f"http://127.0.0.1:{port}/json/list", timeout=10).json()
        yield next(p["webSocketDebuggerUrl"] for p in pages if p["type"] == "page")
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)
        shutil.rmtree(profile, ignore_errors=True)


async def _evaluate(page: Any, expression: str, call_id: int) -> Any:
    await page.send(
        json.dumps(
            {
                "id": call_id,
                "method": "Runtime.evaluate",
                "params": {"expression": expression, "awaitPromise": True, "returnByValue": True},
            }
        )
    )
    while True:
        answer = json.loads(await asyncio.wait_for(page.recv(), 90))
        if answer.get("id") == call_id:
            result = answer["result"]
            assert "exceptionDetails" not in result, result["exceptionDetails"]
            return result["result"]["value"]


async def test_a_browser_opens_the_signals_stream_with_the_token_as_subprotocol(
    notify_fleet: NotifyFleet, events: EventProducer, browser: str
) -> None:
    token = await _login(notify_fleet)
    url = json.dumps(f"{notify_fleet.ws_gateway}{SIGNALS}")
    async with connect(browser, max_size=None, open_timeout=30) as page:
        opened = await _evaluate(page, BROWSER_OPEN % {"url": url, "token": json.dumps(token)}, 1)
        assert opened == {"protocol": APP_PROTOCOL, "type": "signals_init"}
        change = _signal(_symbol())
        await events.publish(topics.SIGNALS.name, change)
        received = await _evaluate(page, BROWSER_WAIT % {"id": json.dumps(change.signal.signal_id)}, 2)
        assert received["data"]["crypto_symbol"] == change.signal.symbol
        await _evaluate(page, "window.cpSocket.close(1000); true", 3)


# --- two replicas --------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def second_replica(notify_fleet: NotifyFleet) -> Iterator[tuple[ServerProcess, int]]:
    """Another notification process next to the fleet's one: same configuration, own port."""
    port = _free_port()
    env = {**notify_fleet.fleet.service_env(notify_fleet.notification), "HTTP_PORT": str(port)}
    state_dir = notify_fleet.fleet.layout.state_dir
    command = ServerCommand(
        name="notification-2",
        argv=(sys.executable, "-m", "notification_service"),
        readiness=http_status(f"http://127.0.0.1:{port}/readyz"),
        env=env,
        cwd=state_dir,
        port=port,
        start_timeout_s=90,
    )
    process = ServerProcess(
        command, state_dir / "logs" / "notification-2.log", state_dir, die_with_parent=True
    )
    process.start()
    process.wait_ready()
    try:
        yield process, port
    finally:
        process.stop()


async def test_two_replicas_deliver_every_event_once_and_a_killed_one_loses_nothing(
    notify_fleet: NotifyFleet, events: EventProducer, second_replica: tuple[ServerProcess, int]
) -> None:
    process, port = second_replica
    token = await _login(notify_fleet)
    symbol = _symbol()
    first_url = f"ws://127.0.0.1:{notify_fleet.notification.http_port}{SIGNALS}"
    second_url = f"ws://127.0.0.1:{port}{SIGNALS}"
    first_batch = [_signal(symbol) for _ in range(10)]
    second_batch = [_signal(symbol) for _ in range(10)]
    async with _ws(first_url, token) as on_first, _ws(second_url, token) as on_second:
        await _subscribe(on_first, symbol)
        await _subscribe(on_second, symbol)
        for change in first_batch:
            await events.publish(topics.SIGNALS.name, change)
        wanted = sorted(c.signal.signal_id for c in first_batch)
        from_first = await _signals_of(on_first, symbol, 10)
        from_second = await _signals_of(on_second, symbol, 10)
        assert sorted(m["data"]["signal_id"] for m in from_first) == wanted
        assert sorted(m["data"]["signal_id"] for m in from_second) == wanted
        last_seen = from_second[-1]["id"]

        assert process.pid is not None
        os.killpg(process.pid, signal.SIGKILL)  # the replica dies; its client is cut off
        with pytest.raises((ConnectionClosed, TimeoutError)):
            await asyncio.wait_for(on_second.recv(), 30)
        for change in second_batch:
            await events.publish(topics.SIGNALS.name, change)
        first_sees = await _signals_of(on_first, symbol, 10, timeout=120)
        assert sorted(m["data"]["signal_id"] for m in first_sees) == sorted(
            c.signal.signal_id for c in second_batch
        )

    # The cut-off client reconnects (through the gateway, to the surviving replica) with its id.
    async with _ws(f"{notify_fleet.ws_gateway}{SIGNALS}?last_event_id={last_seen}", token) as again:
        assert (await _recv(again))["type"] == "signals_init"
        replayed = await _signals_of(again, symbol, 10)
        ids = [m["data"]["signal_id"] for m in replayed]
        assert sorted(ids) == sorted(c.signal.signal_id for c in second_batch)
        marker = _signal(symbol)
        await events.publish(topics.SIGNALS.name, marker)
        (after,) = await _signals_of(again, symbol, 1)
        assert after["data"]["signal_id"] == marker.signal.signal_id  # nothing replayed twice
