"""Gateway compression benchmark: bytes on the wire and latency through Nginx, gzip on and off.

Two gateways rendered from the same catalog, one with ``compression.enabled`` false (the
baseline of the same run), in front of one upstream that answers the envelope of a candles
page (price random walk in the shape of ``GET /api/v1/market/candles``) at three sizes: 10
candles (~3 kB), 100 (~30 kB) and 500 (~150 kB). Each size is fetched ``REQUESTS`` times per
gateway over one keep-alive connection with ``Accept-Encoding: gzip``; figures are the body
bytes received, and p50 / p95 latency including decompression by the client (what a client
pays). Loopback has no bandwidth limit, so the latency ratio is the worst case of compression
(its CPU cost without the transfer it saves); ``transfer_ms_at_10mbit`` adds the time the
measured bytes take on a 10 Mbit/s link, for a mobile-like client.
"""

from __future__ import annotations

import gzip
import json
import random
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

from cp_fleet.catalog import Catalog
from cp_fleet.embedded import NginxServer, find_free_port
from cp_fleet.nginx_config import render_gateway_config
from cp_fleet.processes import ServerProcess
from cp_fleet.system_user import infra_user

SIZES = (10, 100, 500)
REQUESTS = 200
LINK_BITS_PER_S = 10_000_000


def _candles_page(count: int) -> bytes:
    rng = random.Random(count)
    price = 42_000.0
    start = datetime(2023, 1, 1, tzinfo=UTC)
    candles = []
    for i in range(count):
        open_ = price
        price *= 1 + rng.gauss(0, 0.02)
        candles.append(
            {
                "open_time": (start + timedelta(days=i)).isoformat(),
                "close_time": (start + timedelta(days=i + 1)).isoformat(),
                "open": round(open_, 2),
                "high": round(max(open_, price) * (1 + abs(rng.gauss(0, 0.01))), 2),
                "low": round(min(open_, price) * (1 - abs(rng.gauss(0, 0.01))), 2),
                "close": round(price, 2),
                "volume": round(rng.uniform(1e4, 1e5), 4),
                "quote_volume": round(rng.uniform(1e8, 1e9), 2),
                "market_cap": round(price * 19.5e6, 2),
                "quote": "USDT",
                "source": "binance",
                "quality_flags": [],
            }
        )
    data = {"symbol": "BTC", "interval": "1d", "count": count, "truncated": False, "candles": candles}
    envelope = {"success": True, "data": data, "timestamp": start.isoformat()}
    return json.dumps(envelope).encode()


class _Pages(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    #: Headers and body are written separately: with Nagle, delayed ACKs add ~40 ms to each.
    disable_nagle_algorithm = True
    pages: dict[str, bytes] = {}

    def do_GET(self) -> None:
        body = self.pages[self.path.rsplit("/", 1)[-1]]
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def _upstream(port: int) -> Iterator[None]:
    _Pages.pages = {str(n): _candles_page(n) for n in SIZES}
    server = ThreadingHTTPServer(("127.0.0.1", port), _Pages)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def _gateway(state: Path, upstream_port: int, *, compression: bool) -> Iterator[str]:
    port = find_free_port()
    catalog = Catalog.model_validate(
        {
            "gateway": {
                "port": port,
                "compression": {"enabled": compression},
                # the benchmark measures the gateway, not its per-client rate limit
                "rate_limits": {"api": {"rate": "100000r/s", "burst": 1000}},
            },
            "services": [
                {
                    "name": "pages",
                    "command": "python -m pages",
                    "http_port": upstream_port,
                    "public_prefixes": ["/api/v1/pages/"],
                }
            ],
        }
    )
    prefix = state / ("on" if compression else "off")
    prefix.mkdir()
    config = prefix / "nginx.conf"
    config.write_text(render_gateway_config(catalog, access_log=Path("access.log")))
    server = NginxServer(prefix, config, port, user=infra_user(), health_path="/health")
    server.prepare()
    server.check_config()
    process = ServerProcess(server.command(), prefix / "nginx.log", state, die_with_parent=True)
    process.start()
    try:
        process.wait_ready(30)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.stop()


def _measure(base: str, size: int) -> dict[str, float]:
    latencies: list[float] = []
    wire = 0
    with httpx.Client(headers={"Accept-Encoding": "gzip"}) as client:
        client.get(f"{base}/api/v1/pages/{size}")  # connection and first-request warm-up
        for _ in range(REQUESTS):
            started = time.perf_counter()
            with client.stream("GET", f"{base}/api/v1/pages/{size}") as response:
                raw = b"".join(response.iter_raw())
                if response.status_code != 200:
                    raise RuntimeError(f"the gateway answered {response.status_code}: {raw[:200]!r}")
                packed = response.headers.get("content-encoding") == "gzip"
                json.loads(gzip.decompress(raw) if packed else raw)
            latencies.append((time.perf_counter() - started) * 1000)
            wire = len(raw)
    latencies.sort()
    return {
        "bytes": wire,
        "p50_ms": round(statistics.median(latencies), 3),
        "p95_ms": round(latencies[int(0.95 * len(latencies)) - 1], 3),
        "transfer_ms_at_10mbit": round(wire * 8 / LINK_BITS_PER_S * 1000, 3),
    }


def run() -> dict[str, object]:
    figures: dict[str, object] = {"requests_per_case": REQUESTS}
    state = Path(tempfile.mkdtemp(prefix="cp-bench-gzip-")).resolve()
    state.chmod(0o755)
    upstream_port = find_free_port()
    with (
        _upstream(upstream_port),
        _gateway(state, upstream_port, compression=False) as off,
        _gateway(state, upstream_port, compression=True) as on,
    ):
        for size in SIZES:
            plain, packed = _measure(off, size), _measure(on, size)
            figures[f"candles_{size}"] = {
                "off": plain,
                "on": packed,
                "bytes_ratio_on_off": round(packed["bytes"] / plain["bytes"], 4),
                "p50_ratio_on_off": round(packed["p50_ms"] / plain["p50_ms"], 3),
                "p50_plus_10mbit_ratio_on_off": round(
                    (packed["p50_ms"] + packed["transfer_ms_at_10mbit"])
                    / (plain["p50_ms"] + plain["transfer_ms_at_10mbit"]),
                    3,
                ),
            }
    return figures
