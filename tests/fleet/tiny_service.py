"""A tiny real service for fleet tests: HTTP on $HTTP_PORT, ready when PostgreSQL and Redis answer.

Run as a script by the fleet (``python tests/fleet/tiny_service.py``); it uses only what every
service gets from the catalog: SERVICE_NAME, HTTP_PORT, DATABASE_URL, REDIS_URL and extra env
(``TINY_LOG_REQUESTS=1`` prints one line per request).
"""

from __future__ import annotations

import json
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import psycopg
import redis


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        if self.path == "/healthz":
            self._send(200, {"status": "alive"})
        elif self.path == "/readyz":
            try:
                with psycopg.connect(os.environ["DATABASE_URL"], connect_timeout=2) as conn:
                    conn.execute("select 1")
                redis.Redis.from_url(os.environ["REDIS_URL"], socket_timeout=2).ping()
            except Exception as exc:
                self._send(503, {"status": "not ready", "reason": type(exc).__name__})
                return
            self._send(200, {"status": "ready"})
        elif self.path.startswith("/api/v1/tiny/"):
            with psycopg.connect(os.environ["DATABASE_URL"], connect_timeout=2) as conn:
                database = conn.execute("select current_database()").fetchone()[0]
            self._send(
                200,
                {
                    "service": os.environ["SERVICE_NAME"],
                    "greeting": os.environ.get("GREETING"),
                    "database": database,
                    "request_id": self.headers.get("X-Request-ID"),
                    "grpc_port": os.environ["GRPC_PORT"],
                },
            )
        else:
            self._send(404, {"success": False, "error": "Not found", "error_code": 404})

    def _send(self, status: int, payload: dict) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        if os.environ.get("TINY_LOG_REQUESTS"):  # a chatty service, for log-bound tests
            print(f"{self.address_string()} {format % args}", flush=True)


def main() -> None:
    port = int(os.environ["HTTP_PORT"])
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    print(f"{os.environ['SERVICE_NAME']} listening on 127.0.0.1:{port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
