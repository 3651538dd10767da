"""Per-request context shared by HTTP middleware, gRPC interceptors, Kafka handlers and logs."""

from __future__ import annotations

import random
from contextvars import ContextVar

#: Correlates one request across services: HTTP ``X-Request-ID``, gRPC metadata ``x-request-id``,
#: Kafka header ``request-id``. Log records carry it automatically.
request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)

#: Identity of the caller (user id ``sub`` or a service name), propagated as ``x-caller``.
caller_var: ContextVar[str | None] = ContextVar("caller", default=None)

REQUEST_ID_HEADER = "x-request-id"
CALLER_HEADER = "x-caller"


def new_request_id() -> str:
    """32 hex digits, unique per request. From ``random`` (seeded from the OS at start-up and
    again after a fork), not ``uuid4``: that reads ``os.urandom`` per call, a system call that
    was a fifth of a cached read's time in the profile. A request id correlates, it is no secret."""
    return f"{random.getrandbits(128):032x}"
