"""Readiness probes: each one does a real round trip and raises :class:`NotReady` with the reason.

They are synchronous (used from the CLI, from test fixtures and while a server is starting) and
each attempt is bounded by a short timeout.
"""

from __future__ import annotations

import socket
import struct
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass

import psycopg
import redis

ATTEMPT_TIMEOUT_S = 2.0


class NotReady(Exception):
    """The server did not (yet) answer the probe correctly; the message says what went wrong."""


@dataclass(frozen=True)
class ReadinessCheck:
    """A named probe: ``probe()`` returns when the server is ready and raises otherwise."""

    description: str
    probe: Callable[[], None]

    def __call__(self) -> None:
        self.probe()


def postgres_select_one(url: str) -> ReadinessCheck:
    def probe() -> None:
        try:
            with psycopg.connect(url, connect_timeout=int(ATTEMPT_TIMEOUT_S)) as conn:
                row = conn.execute("select 1").fetchone()
        except psycopg.Error as exc:
            raise NotReady(f"select 1 failed: {exc}".strip()) from exc
        if row != (1,):
            raise NotReady(f"select 1 returned {row!r}")

    return ReadinessCheck(f"SQL 'select 1' on {_redact(url)}", probe)


def redis_ping(url: str) -> ReadinessCheck:
    def probe() -> None:
        client = redis.Redis.from_url(
            url, socket_timeout=ATTEMPT_TIMEOUT_S, socket_connect_timeout=ATTEMPT_TIMEOUT_S
        )
        try:
            if client.ping() is not True:
                raise NotReady("PING did not answer PONG")
        except redis.RedisError as exc:
            raise NotReady(f"PING failed: {exc}") from exc
        finally:
            client.close()

    return ReadinessCheck(f"Redis PING on {_redact(url)}", probe)


def kafka_api_versions(host: str, port: int) -> ReadinessCheck:
    """Send a Kafka ``ApiVersions`` (v0) request and expect a well-formed, error-free answer."""

    def probe() -> None:
        correlation_id = 0x0C0FFEE
        client_id = b"cp-readiness"
        body = struct.pack(">hhih", 18, 0, correlation_id, len(client_id)) + client_id
        try:
            with socket.create_connection((host, port), timeout=ATTEMPT_TIMEOUT_S) as sock:
                sock.sendall(struct.pack(">i", len(body)) + body)
                (size,) = struct.unpack(">i", _recv_exactly(sock, 4))
                payload = _recv_exactly(sock, size)
        except OSError as exc:
            raise NotReady(f"ApiVersions request failed: {exc}") from exc
        got_correlation, error_code, api_count = struct.unpack(">ihi", payload[:10])
        if got_correlation != correlation_id:
            raise NotReady(f"ApiVersions answered with correlation id {got_correlation}")
        if error_code != 0 or api_count <= 0:
            raise NotReady(f"ApiVersions answered error {error_code} with {api_count} APIs")

    return ReadinessCheck(f"Kafka ApiVersions on {host}:{port}", probe)


def http_status(url: str, expected: int = 200) -> ReadinessCheck:
    def probe() -> None:
        try:
            with urllib.request.urlopen(url, timeout=ATTEMPT_TIMEOUT_S) as response:  # noqa: S310
                status = response.status
        except urllib.error.HTTPError as exc:
            status = exc.code
        except (urllib.error.URLError, OSError) as exc:
            raise NotReady(f"GET {url} failed: {getattr(exc, 'reason', exc)}") from exc
        if status != expected:
            raise NotReady(f"GET {url} answered {status}, expected {expected}")

    return ReadinessCheck(f"HTTP GET {url} == {expected}", probe)


def _recv_exactly(sock: socket.socket, size: int) -> bytes:
    chunks = bytearray()
    while len(chunks) < size:
        chunk = sock.recv(size - len(chunks))
        if not chunk:
            raise ConnectionError("connection closed mid-response")
        chunks.extend(chunk)
    return bytes(chunks)


def _redact(url: str) -> str:
    """Drop a password from a URL so probe descriptions can be logged."""
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return url
    credentials, _, host = rest.rpartition("@")
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}@{host}"
