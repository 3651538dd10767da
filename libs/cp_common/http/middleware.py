"""Pure-ASGI middleware: request ids, RED metrics and one access-log line per request.

Pure ASGI (not BaseHTTPMiddleware) so streaming responses and WebSockets pass through
untouched. The access log records the route template and never the query string, which
may carry tokens.

It runs on every request, so the hot path is kept small: the metric children of each
(method, route, status) are looked up once and reused (``labels()`` takes a lock and builds a
key per call), and the access-log record is only built when the logger is enabled for INFO.

Access lines are handed to a writer thread (:class:`_AccessLogWriter`) instead of being written
on the event loop: one blocking write to stdout per request cost about a third of a cheap
request's time (docs/performance.md). The thread formats them and writes what queued up since
its last write in one go through the root logger's handlers, with the request id and caller
captured on the event loop. The queue is bounded: under a flood the excess lines are dropped
(and counted), never the requests.
"""

from __future__ import annotations

import atexit
import logging
import queue
import re
import threading
import time
from logging.handlers import QueueHandler
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


#: Lines written per system call at most (a batch is whatever queued up since the last write).
WRITE_BATCH = 512


def _write_batch(records: list[logging.LogRecord]) -> None:
    """Hand ``records`` to the root logger's handlers as they are now (configure_logging swaps
    them): a plain stream handler gets the batch's lines in one write and one flush, any other
    handler one record at a time."""
    for handler in logging.getLogger().handlers:
        wanted = [r for r in records if r.levelno >= handler.level]
        if type(handler) is not logging.StreamHandler:
            for record in wanted:
                handler.handle(record)
            continue
        lines = [handler.format(r) for r in wanted if handler.filter(r)]
        if not lines:
            continue
        with handler.lock:  # type: ignore[union-attr]  # a StreamHandler always has its lock
            try:
                handler.stream.write("\n".join(lines) + handler.terminator)
                handler.flush()
            except Exception:  # what logging does: report on stderr, never raise
                handler.handleError(records[0])


class _AccessLogWriter(QueueHandler):
    """The queue of access lines and the thread that writes them.

    Not the stdlib's ``QueueListener``: it hands records to the handlers one by one, and a
    write plus a flush per line was, with everything else cached, the writer thread's largest
    cost (a system call per request, holding the GIL around it). This thread takes whatever
    queued up since its last write and writes it at once.
    """

    def __init__(self) -> None:
        # SimpleQueue: no lock/condition round trip per line (queue.Queue's notify showed up in
        # the profile); bounded by hand in enqueue().
        self._lines: queue.SimpleQueue[logging.LogRecord | None] = queue.SimpleQueue()
        super().__init__(self._lines)
        self.dropped = 0
        self._thread = threading.Thread(target=self._run, name="access-log", daemon=True)
        self._thread.start()
        atexit.register(self.stop)  # writes what is still queued

    def _run(self) -> None:
        while True:
            first = self._lines.get()
            batch = [] if first is None else [first]
            stop = first is None
            while not stop and len(batch) < WRITE_BATCH:
                try:
                    record = self._lines.get_nowait()
                except queue.Empty:
                    break
                stop = record is None
                if record is not None:
                    batch.append(record)
            if batch:
                _write_batch(batch)
            if stop:
                return

    def stop(self) -> None:
        if self._thread.is_alive():
            self._lines.put(None)
            self._thread.join(timeout=5)

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        return record  # made for this handler alone (RequestContextMiddleware._record)

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
            access_log.handle(_access_record(method, route, status, elapsed))


def _access_record(method: str, route: str, status: int, elapsed: float) -> logging.LogRecord:
    """The access line's record, made directly (``Logger.info`` would also look up its caller's
    frame), with the request's id and caller captured here: the writer thread formats it, where
    the request's context is not set."""
    record = logging.LogRecord(access_log.name, logging.INFO, __file__, 0, "request", None, None)
    record.method = method
    record.route = route
    record.status = status
    record.duration_ms = round(elapsed * 1000, 2)
    record.request_id = request_id_var.get()
    caller = caller_var.get()
    if caller:
        record.caller = caller
    return record
