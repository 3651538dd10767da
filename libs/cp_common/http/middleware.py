"""Pure-ASGI middleware: request ids, RED metrics and one access-log line per request.

Pure ASGI (not BaseHTTPMiddleware) so streaming responses and WebSockets pass through
untouched. The access log records the route template and never the query string, which
may carry tokens.

It runs on every request, so the hot path is kept small: the metric children of each
(method, route, status) are looked up once and reused (``labels()`` takes a lock and builds a
key per call), and the access-log record is only built when the logger is enabled for INFO.

Access lines are handed to a writer thread (:class:`_AccessLogWriter`) instead of being written
on the event loop: one blocking write to stdout per request cost about a third of a cheap
request's time (docs/performance.md). The thread formats and writes them through the root
logger's handlers, with the request id and caller captured on the event loop. The queue is
bounded: under a flood the excess lines are dropped (and counted), never the requests.
"""

from __future__ import annotations

import atexit
import copy
import logging
import queue
import re
import time
from logging.handlers import QueueHandler, QueueListener
from typing import Any

from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cp_common.context import REQUEST_ID_HEADER, caller_var, new_request_id, request_id_var
from cp_common.metrics import HTTP_IN_FLIGHT, HTTP_LATENCY, HTTP_REQUESTS

access_log = logging.getLogger("cp_common.access")

_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
_UNTRACKED = frozenset({"/metrics", "/healthz", "/readyz"})
_REQUEST_ID_KEY = REQUEST_ID_HEADER.lower().encode()
#: Bounded by the routes (templates, or "unmatched") x methods x statuses the app answers.
_MAX_CACHED_CHILDREN = 4096


ACCESS_LOG_QUEUE_SIZE = 10_000


class _ToRootHandlers(logging.Handler):
    """Hands a record to whatever handlers the root logger has now (configure_logging swaps them)."""

    def emit(self, record: logging.LogRecord) -> None:
        for handler in logging.getLogger().handlers:
            if record.levelno >= handler.level:
                handler.handle(record)


class _AccessLogWriter(QueueHandler):
    def __init__(self) -> None:
        # SimpleQueue: no lock/condition round trip per line (queue.Queue's notify showed up in
        # the profile); bounded by hand in enqueue().
        self._lines: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
        super().__init__(self._lines)
        self.dropped = 0
        self._listener = QueueListener(self._lines, _ToRootHandlers())
        self._listener.start()
        atexit.register(self._listener.stop)  # writes what is still queued

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        # The formatter runs in the writer thread, where the request's context is not set.
        record = copy.copy(record)
        record.request_id = request_id_var.get()
        caller = caller_var.get()
        if caller:
            record.caller = caller
        return record

    def enqueue(self, record: logging.LogRecord) -> None:
        if self._lines.qsize() >= ACCESS_LOG_QUEUE_SIZE:
            self.dropped += 1
            return
        self._lines.put_nowait(record)


_writer: _AccessLogWriter | None = None


def _install_access_log_writer() -> None:
    global _writer
    if _writer is None:
        _writer = _AccessLogWriter()
        access_log.addHandler(_writer)
        access_log.propagate = False


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return None


def _route_template(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "unmatched"


class _RedMetrics:
    """The request counter and latency histogram children, resolved once per label set."""

    def __init__(self) -> None:
        self._children: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}

    def observe(self, method: str, route: str, status: int, elapsed: float) -> None:
        key = (method, route, status)
        children = self._children.get(key)
        if children is None:
            children = (HTTP_REQUESTS.labels(method, route, str(status)), HTTP_LATENCY.labels(method, route))
            if len(self._children) < _MAX_CACHED_CHILDREN:
                self._children[key] = children
        children[0].inc()
        children[1].observe(elapsed)


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._metrics = _RedMetrics()
        _install_access_log_writer()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        incoming = _header(scope, _REQUEST_ID_KEY)
        request_id = incoming if incoming and _VALID_REQUEST_ID.match(incoming) else new_request_id()
        token = request_id_var.set(request_id)
        if scope["type"] == "websocket":
            try:
                await self.app(scope, receive, send)
            finally:
                request_id_var.reset(token)
            return

        status = 500
        started = time.perf_counter()
        id_header = (_REQUEST_ID_KEY, request_id.encode())
        HTTP_IN_FLIGHT.inc()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers: list[Any] = list(message.get("headers", ()))
                headers.append(id_header)
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            HTTP_IN_FLIGHT.dec()
            if scope.get("path") not in _UNTRACKED:
                self._record(scope, status, time.perf_counter() - started)
            request_id_var.reset(token)

    def _record(self, scope: Scope, status: int, elapsed: float) -> None:
        route = _route_template(scope)
        method = scope.get("method", "GET")
        self._metrics.observe(method, route, status, elapsed)
        if access_log.isEnabledFor(logging.INFO):
            access_log.info(
                "request",
                extra={
                    "method": method,
                    "route": route,
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 2),
                },
            )
