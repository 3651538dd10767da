"""The fleet readiness route against real HTTP servers (ready, not ready, gone)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from fastapi import FastAPI

from cp_common.http.error_handlers import install_error_handlers
from cp_common.http.fleet_health import FleetProbe, fleet_health_router, fleet_status, peers_from_environment


class _Readyz(BaseHTTPRequestHandler):
    status = 200
    hits = 0

    def do_GET(self) -> None:
        type(self).hits += 1
        body = json.dumps({"ok": self.status == 200}).encode()
        self.send_response(self.status if self.path == "/readyz" else 404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def _serve(status: int) -> tuple[ThreadingHTTPServer, type[_Readyz]]:
    handler = type(f"Readyz{status}", (_Readyz,), {"status": status, "hits": 0})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return server, handler


@pytest.fixture
def servers() -> Iterator[dict[str, tuple[str, type[_Readyz]]]]:
    started = {"up": _serve(200), "sick": _serve(503)}
    yield {name: (f"http://127.0.0.1:{s.server_address[1]}", h) for name, (s, h) in started.items()}
    for server, _ in started.values():
        server.shutdown()
        server.server_close()


def _client(probe: FleetProbe) -> httpx.AsyncClient:
    app = FastAPI()
    install_error_handlers(app)
    app.include_router(fleet_health_router(probe))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


def test_peers_come_from_the_http_url_variables() -> None:
    environ = {
        "AUTH_HTTP_URL": "http://127.0.0.1:8101/",
        "LAYER1_MACRO_HTTP_URL": "http://127.0.0.1:8103",
        "GATEWAY_URL": "http://127.0.0.1:8080",
        "BROKEN_HTTP_URL": "not a url",
        "AUTH_GRPC_TARGET": "127.0.0.1:9101",
    }
    assert peers_from_environment(environ) == {
        "auth": "http://127.0.0.1:8101",
        "layer1-macro": "http://127.0.0.1:8103",
    }


def test_status_words() -> None:
    assert fleet_status({"a": True, "b": True}) == "healthy"
    assert fleet_status({"a": True, "b": False}) == "degraded"
    assert fleet_status({"a": False}) == "unhealthy"
    assert fleet_status({}) == "unhealthy"


async def test_all_ready_is_200(servers) -> None:
    probe = FleetProbe({"up": servers["up"][0]})
    async with _client(probe) as client:
        response = await client.get("/api/v1/health")
    assert response.status_code == 200
    assert response.json()["data"] == {"status": "healthy", "services": {"up": {"ready": True}}}


async def test_a_sick_or_gone_service_is_503_without_details(servers, free_port) -> None:
    gone = f"http://127.0.0.1:{free_port()}"
    probe = FleetProbe({"up": servers["up"][0], "sick": servers["sick"][0], "gone": gone}, timeout=1)
    async with _client(probe) as client:
        response = await client.get("/api/v1/health")
    assert response.status_code == 503
    body = response.json()
    assert body["success"] is False and body["error_code"] == 503 and body["error"] == "fleet degraded"
    assert body["data"]["services"] == {
        "up": {"ready": True},
        "sick": {"ready": False},
        "gone": {"ready": False},
    }
    assert "127.0.0.1" not in response.text


async def test_results_are_cached_between_requests(servers) -> None:
    url, handler = servers["up"]
    probe = FleetProbe({"up": url}, cache_seconds=60)
    async with _client(probe) as client:
        for _ in range(5):
            assert (await client.get("/api/v1/health")).status_code == 200
    assert handler.hits == 1


async def test_default_peers_are_read_from_the_environment_at_first_use(servers, monkeypatch) -> None:
    probe = FleetProbe()
    monkeypatch.setenv("SICK_HTTP_URL", servers["sick"][0])
    assert probe.peers.get("sick") == servers["sick"][0]
    assert (await probe.readiness())["sick"] is False
