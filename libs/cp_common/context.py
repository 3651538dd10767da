"""Per-request context shared by HTTP middleware, gRPC interceptors, Kafka handlers and logs."""

from __future__ import annotations

import uuid
from contextvars import ContextVar

#: Correlates one request across services: HTTP ``X-Request-ID``, gRPC metadata ``x-request-id``,
#: Kafka header ``request-id``. Log records carry it automatically.
request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)

#: Identity of the caller (user id ``sub`` or a service name), propagated as ``x-caller``.
caller_var: ContextVar[str | None] = ContextVar("caller", default=None)

REQUEST_ID_HEADER = "x-request-id"
CALLER_HEADER = "x-caller"


def new_request_id() -> str:
    return uuid.uuid4().hex
