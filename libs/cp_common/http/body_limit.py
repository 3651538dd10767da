"""The request-body size limit of every app (the gateway has its own; this is defence in depth
for a service called directly).

A declared ``Content-Length`` over the limit is answered 413 before any of the body is read; a
body without one (chunked) is counted as it arrives and refused once it passes the limit. Both
answers are the envelope. (FastAPI's own ``max_body_size`` would answer a declared length over
the limit in plain text, replacing whatever the app sends, so it is not used.)
"""

from __future__ import annotations

import json

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cp_common.context import request_id_var
from cp_common.http.envelope import error_body

#: Default limit, the gateway's ``client_max_body_size`` (1 MiB).
DEFAULT_MAX_BODY_BYTES = 1024 * 1024


def too_large_message(limit: int) -> str:
    return f"Request body too large (limit {limit} bytes)"


class BodyTooLarge(HTTPException):
    """Raised while a body is read. An ``HTTPException``, so FastAPI's body parsing lets it
    through (it turns other exceptions into a 400) to the envelope handler."""

    def __init__(self, limit: int) -> None:
        super().__init__(status_code=413, detail=too_large_message(limit))


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # the server has refused it already; nothing to decide here
    return None


class BodyLimitMiddleware:
    """Pure ASGI: refuse HTTP request bodies larger than ``max_bytes`` with a 413 envelope."""

    def __init__(self, app: ASGIApp, max_bytes: int = DEFAULT_MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _declared_length(scope)
        if declared is not None and declared > self.max_bytes:
            await self._refuse(send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        await self.app(scope, counted, send)

    async def _refuse(self, send: Send) -> None:
        body = error_body(too_large_message(self.max_bytes), 413, request_id=request_id_var.get())
        payload = json.dumps(body, separators=(",", ":")).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(payload)).encode()),
            (b"connection", b"close"),  # the unread body must not be parsed as the next request
        ]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": payload})
