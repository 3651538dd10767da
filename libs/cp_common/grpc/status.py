"""Translate between gRPC status codes, HTTP statuses and :mod:`cp_common.errors`.

Servers: a :class:`~cp_common.errors.ServiceError` raised by a handler becomes the gRPC status
named by its ``grpc_code`` (see :func:`grpc_status_for`). Clients: a failed call becomes a
``ServiceError`` (see :func:`service_error_from_rpc_error`) so that an HTTP handler calling a
downstream service answers with the right envelope status without knowing about gRPC.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import grpc

from cp_common.errors import (
    BadRequest,
    Conflict,
    DeadlineExceeded,
    Forbidden,
    NotFound,
    RateLimited,
    ServiceError,
    Unauthorized,
    Unavailable,
)

#: HTTP status for each gRPC code (the mapping of google/rpc/code.proto).
HTTP_STATUS_BY_GRPC_CODE: Mapping[grpc.StatusCode, int] = MappingProxyType(
    {
        grpc.StatusCode.OK: 200,
        grpc.StatusCode.CANCELLED: 499,
        grpc.StatusCode.UNKNOWN: 500,
        grpc.StatusCode.INVALID_ARGUMENT: 400,
        grpc.StatusCode.DEADLINE_EXCEEDED: 504,
        grpc.StatusCode.NOT_FOUND: 404,
        grpc.StatusCode.ALREADY_EXISTS: 409,
        grpc.StatusCode.PERMISSION_DENIED: 403,
        grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
        grpc.StatusCode.FAILED_PRECONDITION: 400,
        grpc.StatusCode.ABORTED: 409,
        grpc.StatusCode.OUT_OF_RANGE: 400,
        grpc.StatusCode.UNIMPLEMENTED: 501,
        grpc.StatusCode.INTERNAL: 500,
        grpc.StatusCode.UNAVAILABLE: 503,
        grpc.StatusCode.DATA_LOSS: 500,
        grpc.StatusCode.UNAUTHENTICATED: 401,
    }
)

_ERROR_CLASS_BY_GRPC_CODE: Mapping[grpc.StatusCode, type[ServiceError]] = MappingProxyType(
    {
        grpc.StatusCode.INVALID_ARGUMENT: BadRequest,
        grpc.StatusCode.FAILED_PRECONDITION: BadRequest,
        grpc.StatusCode.OUT_OF_RANGE: BadRequest,
        grpc.StatusCode.UNAUTHENTICATED: Unauthorized,
        grpc.StatusCode.PERMISSION_DENIED: Forbidden,
        grpc.StatusCode.NOT_FOUND: NotFound,
        grpc.StatusCode.ALREADY_EXISTS: Conflict,
        grpc.StatusCode.ABORTED: Conflict,
        grpc.StatusCode.RESOURCE_EXHAUSTED: RateLimited,
        grpc.StatusCode.UNAVAILABLE: Unavailable,
        grpc.StatusCode.DEADLINE_EXCEEDED: DeadlineExceeded,
    }
)

# Codes whose details describe the caller's own mistake and are safe to pass on as they are.
# Other codes get a generic message so a downstream's internals never reach a public response.
_PASS_THROUGH_DETAILS = frozenset(
    {
        grpc.StatusCode.INVALID_ARGUMENT,
        grpc.StatusCode.FAILED_PRECONDITION,
        grpc.StatusCode.OUT_OF_RANGE,
        grpc.StatusCode.NOT_FOUND,
        grpc.StatusCode.ALREADY_EXISTS,
        grpc.StatusCode.ABORTED,
        grpc.StatusCode.PERMISSION_DENIED,
        grpc.StatusCode.UNAUTHENTICATED,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
    }
)

_GENERIC_MESSAGES: Mapping[grpc.StatusCode, str] = MappingProxyType(
    {
        grpc.StatusCode.UNAVAILABLE: "unavailable",
        grpc.StatusCode.DEADLINE_EXCEEDED: "did not answer in time",
        grpc.StatusCode.CANCELLED: "call was cancelled",
        grpc.StatusCode.UNIMPLEMENTED: "does not implement this call",
    }
)


def http_status_for(code: grpc.StatusCode) -> int:
    """HTTP status for the response envelope of a call that ended with ``code``."""
    return HTTP_STATUS_BY_GRPC_CODE.get(code, 500)


def grpc_status_for(error: ServiceError) -> grpc.StatusCode:
    """gRPC status a handler aborts with when it raises ``error`` (its ``grpc_code``)."""
    try:
        return grpc.StatusCode[error.grpc_code]
    except KeyError:
        return grpc.StatusCode.INTERNAL


def service_error_from_rpc_error(error: grpc.RpcError, *, service: str | None = None) -> ServiceError:
    """The :class:`ServiceError` matching a failed call.

    ``service`` names the downstream in messages that would otherwise be generic (for example
    ``"Layer 1 service"`` gives ``"Layer 1 service unavailable"``). Details from the downstream
    are kept only for codes that describe the request itself (not found, invalid argument...).
    Chain it: ``raise service_error_from_rpc_error(exc, service=...) from exc``.
    """
    code = error.code() if callable(getattr(error, "code", None)) else grpc.StatusCode.UNKNOWN
    if not isinstance(code, grpc.StatusCode):
        code = grpc.StatusCode.UNKNOWN
    details = error.details() if callable(getattr(error, "details", None)) else None
    subject = service or "upstream service"
    if code in _PASS_THROUGH_DETAILS and details:
        message = details
    else:
        message = f"{subject} {_GENERIC_MESSAGES.get(code, 'failed')}"
    error_class = _ERROR_CLASS_BY_GRPC_CODE.get(code)
    if error_class is not None:
        return error_class(message)
    converted = ServiceError(message, status_code=http_status_for(code))
    converted.grpc_code = code.name
    return converted
