"""Small real HTTP and WebSocket servers that stand in for application services behind the gateway."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from websockets.sync.server import ServerConnection, serve


class EchoHandler(BaseHTTPRequestHandler):
    """Answers every request with what it received; ``.../fail`` answers its own 500 envelope,
    ``.../slow`` answers after 3 seconds."""

    protocol_version = "HTTP/1.1"

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if self.path.endswith("/slow"):
            time.sleep(3)
        if self.path.endswith("/fail"):
            status, payload = 500, {"success": False, "error": "from the service", "error_code": 500}
        else:
            status, payload = (
                200,
                {
                    "path": self.path,
                    "method": self.command,
                    "headers": {key.lower(): value for key, value in self.headers.items()},
                    "body_length": len(body),
                },
            )
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-Frame-Options", "SAMEORIGIN")  # the gateway must override this
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = _answer

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def http_echo_server(port: int) -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", port), EchoHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def _ws_echo(connection: ServerConnection) -> None:
    path = connection.request.path if connection.request is not None else ""
    for message in connection:
        text = message.decode() if isinstance(message, bytes) else message
        connection.send(f"echo:{path}:{text}")


@contextmanager
def websocket_echo_server(port: int) -> Iterator[None]:
    with serve(_ws_echo, "127.0.0.1", port) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield
        finally:
            server.shutdown()
