"""The rendered gateway config, run by real Nginx in front of small real upstream servers."""

from __future__ import annotations

import json
import re
import socket
import ssl
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from websockets.sync.client import connect

from cp_fleet.catalog import Catalog, load_catalog
from cp_fleet.embedded import NginxServer, find_free_port
from cp_fleet.layout import DEFAULT_CATALOG
from cp_fleet.nginx_config import bench_profile, render_gateway_config
from cp_fleet.system_user import infra_user
from cp_testing.fixtures import RunningNginx

from .upstreams import http_echo_server, websocket_echo_server

HEX_ID = re.compile(r"^[0-9a-f]{32}$")
ENVELOPE_KEYS = {"success", "error", "error_code", "timestamp"}


ALLOWED_ORIGIN = "https://app.cryptopredict.com"


def _catalog(gateway_port: int, echo_port: int, ws_port: int, down_port: int, **gateway: object) -> Catalog:
    return Catalog.model_validate(
        {
            "gateway": {"port": gateway_port, "cors": {"allowed_origins": [ALLOWED_ORIGIN]}, **gateway},
            "services": [
                {
                    "name": "echo",
                    "command": "python -m echo",
                    "http_port": echo_port,
                    "public_prefixes": ["/api/v1/echo/", "/api/v1/auth/", "/api/v1/health"],
                },
                {
                    "name": "notification",
                    "command": "python -m notification",
                    "http_port": ws_port,
                    "websocket_prefixes": ["/api/v1/ws/"],
                },
                {
                    "name": "down",
                    "command": "python -m down",
                    "http_port": down_port,
                    "public_prefixes": ["/api/v1/down/"],
                },
            ],
        }
    )


@pytest.fixture(scope="module")
def gateway(run_nginx) -> Iterator[RunningNginx]:
    ports = [find_free_port() for _ in range(4)]
    gateway_port, echo_port, ws_port, down_port = ports
    catalog = _catalog(gateway_port, echo_port, ws_port, down_port)
    config = render_gateway_config(catalog, access_log=Path("access.log"))
    with http_echo_server(echo_port), websocket_echo_server(ws_port):
        nginx = run_nginx(config, gateway_port)
        yield nginx
        nginx.stop()


def _assert_envelope(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == ENVELOPE_KEYS
    assert body["success"] is False
    assert body["error_code"] == status
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$", body["timestamp"])
    return body


def test_deploy_catalog_renders_a_config_nginx_accepts(tmp_path: Path) -> None:
    catalog = load_catalog(DEFAULT_CATALOG)
    config_path = tmp_path / "nginx.conf"
    config_path.write_text(render_gateway_config(catalog, access_log=Path("access.log")))
    server = NginxServer(tmp_path, config_path, catalog.gateway.port, user=infra_user())
    server.prepare()
    server.check_config()  # nginx -t


def test_nginx_t_rejects_a_broken_config(tmp_path: Path) -> None:
    config_path = tmp_path / "nginx.conf"
    config_path.write_text("events {}\nhttp { server { listen 127.0.0.1:1; location / { bogus on; } } }\n")
    server = NginxServer(tmp_path, config_path, 1, user=infra_user())
    server.prepare()
    with pytest.raises(ValueError, match="unknown directive"):
        server.check_config()


def test_health_is_answered_by_the_gateway(gateway: RunningNginx) -> None:
    response = httpx.get(f"{gateway.url}/health")
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True and body["data"] == {"status": "healthy"}
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["content-security-policy"] == "frame-ancestors 'none'"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert HEX_ID.match(response.headers["x-request-id"])


def test_unknown_path_is_a_json_404(gateway: RunningNginx) -> None:
    response = httpx.get(f"{gateway.url}/api/v1/nope")
    assert _assert_envelope(response, 404)["error"] == "Not found"
    assert response.headers["x-frame-options"] == "DENY"


def test_route_prefix_is_proxied_with_request_id(gateway: RunningNginx) -> None:
    response = httpx.get(f"{gateway.url}/api/v1/echo/items?x=1")
    assert response.status_code == 200
    seen = response.json()
    assert seen["path"] == "/api/v1/echo/items?x=1"
    request_id = response.headers["x-request-id"]
    assert HEX_ID.match(request_id)
    assert seen["headers"]["x-request-id"] == request_id
    assert seen["headers"]["x-real-ip"] == "127.0.0.1"
    # the service's own X-Frame-Options is replaced by the gateway's
    assert response.headers.get_list("x-frame-options") == ["DENY"]


def test_well_formed_request_id_passes_through_and_junk_is_replaced(gateway: RunningNginx) -> None:
    kept = httpx.get(f"{gateway.url}/api/v1/echo/a", headers={"X-Request-ID": "client-id-0001"})
    assert kept.headers["x-request-id"] == "client-id-0001"
    assert kept.json()["headers"]["x-request-id"] == "client-id-0001"
    junk = httpx.get(f"{gateway.url}/api/v1/echo/a", headers={"X-Request-ID": 'bad id" injected'})
    assert HEX_ID.match(junk.headers["x-request-id"])
    assert junk.json()["headers"]["x-request-id"] == junk.headers["x-request-id"]


def test_service_errors_pass_through_untouched(gateway: RunningNginx) -> None:
    response = httpx.get(f"{gateway.url}/api/v1/echo/fail")
    assert response.status_code == 500
    assert response.json()["error"] == "from the service"


def test_unreachable_service_is_a_json_502(gateway: RunningNginx) -> None:
    _assert_envelope(httpx.get(f"{gateway.url}/api/v1/down/x"), 502)


def test_oversized_body_is_a_json_413(gateway: RunningNginx) -> None:
    response = httpx.post(f"{gateway.url}/api/v1/echo/upload", content=b"x" * (2 * 1024 * 1024))
    _assert_envelope(response, 413)
    small = httpx.post(f"{gateway.url}/api/v1/echo/upload", content=b"x" * 1000)
    assert small.json()["body_length"] == 1000


def test_websocket_upgrade_is_proxied(gateway: RunningNginx) -> None:
    ws_url = gateway.url.replace("http://", "ws://") + "/api/v1/ws/signals/42"
    with connect(ws_url, open_timeout=10) as ws:
        ws.send("hello")
        assert ws.recv(timeout=10) == "echo:/api/v1/ws/signals/42:hello"


def test_access_log_is_json_without_secrets(gateway: RunningNginx) -> None:
    httpx.get(
        f"{gateway.url}/api/v1/echo/me?token=QUERY-SECRET-42",
        headers={"Authorization": "Bearer HEADER-SECRET-42", "X-Request-ID": "log-check-0001"},
    )
    log_path = gateway.prefix_dir / "access.log"
    deadline = time.monotonic() + 5
    while "log-check-0001" not in log_path.read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    text = log_path.read_text()
    assert "SECRET-42" not in text
    records = [json.loads(line) for line in text.splitlines()]
    ours = [r for r in records if r["request_id"] == "log-check-0001"]
    assert ours and ours[0]["path"] == "/api/v1/echo/me" and ours[0]["status"] == 200
    assert ours[0]["upstream_status"] == "200"


def test_rate_limits_answer_json_429(run_nginx) -> None:
    gateway_port, echo_port, ws_port, down_port = (find_free_port() for _ in range(4))
    catalog = _catalog(
        gateway_port,
        echo_port,
        ws_port,
        down_port,
        rate_limits={
            "api": {"rate": "1r/s", "burst": 5},
            "websocket": {"rate": "10r/s", "burst": 5},
            "auth": {"rate": "1r/m", "burst": 2},
        },
    )
    config = render_gateway_config(catalog, access_log=Path("access.log"))
    with http_echo_server(echo_port):
        nginx = run_nginx(config, gateway_port)
        try:
            # strict zone on login: 1 + burst 2 pass, the rest is refused
            login = [httpx.post(f"{nginx.url}/api/v1/auth/login").status_code for _ in range(6)]
            assert login == [200, 200, 200, 429, 429, 429]
            _assert_envelope(httpx.post(f"{nginx.url}/api/v1/auth/register"), 429)
            # other auth routes use the api zone, unaffected by the strict one
            assert httpx.get(f"{nginx.url}/api/v1/auth/me").status_code == 200
            # api zone (1 r/s, burst 5; /auth/me above took one slot): of 30 quick requests about 5
            # pass, the rest is refused
            started = time.monotonic()
            with httpx.Client(base_url=nginx.url) as client, ThreadPoolExecutor(4) as pool:
                codes = list(pool.map(lambda _: client.get("/api/v1/echo/x").status_code, range(30)))
            allowed = 6 + int(time.monotonic() - started) + 1
            assert 5 <= codes.count(200) <= allowed
            assert codes.count(429) == 30 - codes.count(200)
        finally:
            nginx.stop()


def test_permissions_policy_and_no_cors_headers_without_an_allowed_origin(gateway: RunningNginx) -> None:
    response = httpx.get(f"{gateway.url}/api/v1/echo/x", headers={"Origin": "https://evil.example"})
    assert "camera=()" in response.headers["permissions-policy"]
    assert "access-control-allow-origin" not in response.headers
    assert "strict-transport-security" not in response.headers  # plain HTTP


def test_cors_echoes_an_allowed_origin(gateway: RunningNginx) -> None:
    response = httpx.get(f"{gateway.url}/api/v1/echo/x", headers={"Origin": ALLOWED_ORIGIN})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    assert response.headers["access-control-expose-headers"] == "X-Request-ID"
    assert "Origin" in response.headers["vary"]
    assert "access-control-allow-credentials" not in response.headers
    assert "access-control-allow-methods" not in response.headers  # only on preflights


def test_cors_preflight_is_answered_by_the_gateway(gateway: RunningNginx) -> None:
    preflight = {"Origin": ALLOWED_ORIGIN, "Access-Control-Request-Method": "POST"}
    response = httpx.options(f"{gateway.url}/api/v1/echo/x", headers=preflight)
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    assert "POST" in response.headers["access-control-allow-methods"]
    assert "Authorization" in response.headers["access-control-allow-headers"]
    assert response.headers["access-control-max-age"] == "600"
    # from a foreign origin the preflight is not answered by the gateway (the echo server has no
    # OPTIONS handler and says 501), and carries no CORS grant
    foreign = httpx.options(
        f"{gateway.url}/api/v1/echo/x",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert foreign.status_code == 501 and "access-control-allow-origin" not in foreign.headers


def test_the_client_cannot_choose_its_forwarded_address(gateway: RunningNginx) -> None:
    response = httpx.get(f"{gateway.url}/api/v1/echo/x", headers={"X-Forwarded-For": "6.6.6.6"})
    assert response.json()["headers"]["x-forwarded-for"] == "127.0.0.1"


def test_fleet_health_path_goes_to_any_service_that_is_up_with_its_own_zone(run_nginx) -> None:
    # Only the echo service listens: the health path skips the two that are down.
    gateway_port, echo_port, ws_port, down_port = (find_free_port() for _ in range(4))
    catalog = _catalog(
        gateway_port,
        echo_port,
        ws_port,
        down_port,
        rate_limits={"health": {"rate": "1r/m", "burst": 3}},
    )
    config = render_gateway_config(catalog, access_log=Path("access.log"))
    assert "location = /api/v1/health {" in config
    assert f"server 127.0.0.1:{down_port};" in config.split("upstream cp_fleet_health {")[1].split("}")[0]
    with http_echo_server(echo_port):
        nginx = run_nginx(config, gateway_port)
        try:
            codes = [httpx.get(f"{nginx.url}/api/v1/health").status_code for _ in range(8)]
            assert codes[:4] == [200] * 4 and set(codes[4:]) == {429}
            _assert_envelope(httpx.get(f"{nginx.url}/api/v1/health"), 429)
            # the API zone is separate: other routes still pass
            assert httpx.get(f"{nginx.url}/api/v1/echo/x").status_code == 200
        finally:
            nginx.stop()


def _self_signed(directory: Path) -> tuple[Path, Path]:
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "gateway.crt", directory / "gateway.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    for path in (cert_path, key_path):
        path.chmod(0o644)
    return cert_path, key_path


def test_tls_listener_sends_hsts_only_over_https(run_nginx, cp_state_dir: Path) -> None:
    gateway_port, tls_port, echo_port, ws_port, down_port = (find_free_port() for _ in range(5))
    directory = cp_state_dir / "tls-test"
    directory.mkdir()
    directory.chmod(0o755)
    cert, key = _self_signed(directory)
    catalog = _catalog(
        gateway_port,
        echo_port,
        ws_port,
        down_port,
        tls={"port": tls_port, "certificate": str(cert), "certificate_key": str(key)},
    )
    config = render_gateway_config(catalog, access_log=Path("access.log"))
    with http_echo_server(echo_port):
        nginx = run_nginx(config, gateway_port)
        try:
            trust = ssl.create_default_context(cafile=str(cert))
            secure = httpx.get(f"https://127.0.0.1:{tls_port}/api/v1/echo/x", verify=trust)
            assert secure.status_code == 200
            assert secure.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"
            assert secure.json()["headers"]["x-forwarded-proto"] == "https"
            plain = httpx.get(f"{nginx.url}/api/v1/echo/x")
            assert "strict-transport-security" not in plain.headers
        finally:
            nginx.stop()


def test_a_service_slower_than_the_read_timeout_is_a_json_504(run_nginx) -> None:
    gateway_port, echo_port, ws_port, down_port = (find_free_port() for _ in range(4))
    catalog = _catalog(gateway_port, echo_port, ws_port, down_port, proxy_read_timeout_s=1)
    with http_echo_server(echo_port):
        nginx = run_nginx(render_gateway_config(catalog, access_log=Path("access.log")), gateway_port)
        try:
            started = time.monotonic()
            response = httpx.get(f"{nginx.url}/api/v1/echo/slow", timeout=10)
            assert time.monotonic() - started < 2.5
            assert (
                _assert_envelope(response, 504)["error"]
                == "Gateway timeout: the service did not answer in time"
            )
        finally:
            nginx.stop()


def _raw(port: int, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send ``request`` byte for byte (no client library normalises it) and parse the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(status_line.split(" ")[1]), headers, body


def _request(target: bytes, *, version: bytes = b"HTTP/1.1", extra: bytes = b"") -> bytes:
    return b"GET " + target + b" " + version + b"\r\nHost: gateway\r\n" + extra + b"Connection: close\r\n\r\n"


MALFORMED = {
    "NUL in the path": (_request(b"/api/v1/echo/\x00x"), 400),
    "lone percent": (_request(b"/api/v1/echo/%"), 400),
    "bad percent escape": (_request(b"/api/v1/echo/%zz"), 400),
    "encoded traversal above the root": (_request(b"/%2e%2e/%2e%2e/etc/passwd"), 400),
    "traversal above the root": (_request(b"/../../etc/passwd"), 400),
    "raw space in the request line": (_request(b"/api/v1/echo/a b"), 400),
    "invalid method": (b"G@T / HTTP/1.1\r\nHost: gateway\r\nConnection: close\r\n\r\n", 400),
    "not HTTP at all": (b"\x16\x03\x01\x00\xa5garbage\r\n\r\n", 400),
    "unknown HTTP version": (_request(b"/api/v1/echo/x", version=b"HTTP/9.9"), 505),
    "query string too long": (_request(b"/api/v1/echo/x?q=" + b"a" * 20_000), 414),
    "one oversized header": (_request(b"/api/v1/echo/x", extra=b"X-Big: " + b"a" * 10_000 + b"\r\n"), 431),
    "oversized cookie": (_request(b"/api/v1/echo/x", extra=b"Cookie: " + b"k=v; " * 4000 + b"\r\n"), 431),
    "headers too large in total": (
        _request(b"/api/v1/echo/x", extra=b"".join(b"X-H%d: %s\r\n" % (i, b"v" * 900) for i in range(40))),
        431,
    ),
    "header line without a colon": (_request(b"/api/v1/echo/x", extra=b"Bad Header\r\n"), 400),
    "two Host headers": (_request(b"/api/v1/echo/x", extra=b"Host: other\r\n"), 400),
    "unparsable Content-Length": (
        b"POST /api/v1/echo/x HTTP/1.1\r\nHost: g\r\nContent-Length: abc\r\nConnection: close\r\n\r\n",
        400,
    ),
    "unknown Transfer-Encoding": (
        b"POST /api/v1/echo/x HTTP/1.1\r\nHost: g\r\nTransfer-Encoding: gzip\r\nConnection: close\r\n\r\n",
        501,
    ),
    "the internal error location": (_request(b"/_cp_error/500"), 404),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_malformed_requests_get_the_json_envelope(gateway: RunningNginx, case: str) -> None:
    request, expected = MALFORMED[case]
    status, headers, body = _raw(gateway.port, request)
    assert status == expected
    assert headers["content-type"] == "application/json"
    assert headers["x-content-type-options"] == "nosniff"
    envelope = json.loads(body)
    assert set(envelope) == ENVELOPE_KEYS
    assert envelope["success"] is False and envelope["error_code"] == expected


@pytest.mark.parametrize("path", ["/api/v1/echo", "/api/v1/auth"])
def test_a_prefix_without_its_trailing_slash_goes_to_its_service(gateway: RunningNginx, path: str) -> None:
    response = httpx.get(f"{gateway.url}{path}", follow_redirects=False)
    assert response.status_code == 200
    assert response.json()["path"] == path


def test_a_websocket_prefix_without_its_slash_is_no_redirect(gateway: RunningNginx) -> None:
    # the WebSocket echo server refuses a plain GET; what matters is that Nginx did not redirect
    response = httpx.get(f"{gateway.url}/api/v1/ws", follow_redirects=False)
    assert response.status_code not in (301, 302, 307, 308)


def test_an_error_is_logged_under_the_path_the_client_asked_for(gateway: RunningNginx) -> None:
    httpx.get(
        f"{gateway.url}/api/v1/nope/x?token=QUERY-SECRET-43", headers={"X-Request-ID": "log-check-0002"}
    )
    log_path = gateway.prefix_dir / "access.log"
    deadline = time.monotonic() + 5
    while "log-check-0002" not in log_path.read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    text = log_path.read_text()
    assert "SECRET-43" not in text
    (ours,) = [r for r in map(json.loads, text.splitlines()) if r["request_id"] == "log-check-0002"]
    assert ours["path"] == "/api/v1/nope/x" and ours["status"] == 404 and ours["weight"] == 1


def test_the_bench_profile_lifts_every_rate_limit_and_nothing_else(tmp_path: Path) -> None:
    deploy = load_catalog(DEFAULT_CATALOG)
    bench = bench_profile(deploy)
    assert bench.services == deploy.services
    assert bench.gateway.model_dump(exclude={"rate_limits"}) == deploy.gateway.model_dump(
        exclude={"rate_limits"}
    )
    config = render_gateway_config(bench, access_log=tmp_path / "access.log")
    zones = [line for line in config.splitlines() if "limit_req_zone" in line]
    assert len(zones) == 4 and all("rate=1000000r/s" in line for line in zones)
    assert "burst=100000 nodelay" in config
