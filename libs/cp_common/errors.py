"""Errors a service raises on purpose; HTTP handlers and gRPC interceptors map them.

Raise these from domain code; the FastAPI app factory answers with the standard envelope
(``{"success": false, "error": message, "error_code": status, "timestamp": ...}``) and the gRPC
helpers abort with the matching status code.
"""

from __future__ import annotations


class ServiceError(Exception):
    """Base class: ``status_code`` is the HTTP status, ``grpc_code`` the gRPC status name."""

    status_code: int = 500
    grpc_code: str = "INTERNAL"

    def __init__(self, message: str, *, status_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status_code is not None:
            self.status_code = status_code


class BadRequest(ServiceError):
    status_code = 400
    grpc_code = "INVALID_ARGUMENT"


class Unauthorized(ServiceError):
    status_code = 401
    grpc_code = "UNAUTHENTICATED"


class Forbidden(ServiceError):
    status_code = 403
    grpc_code = "PERMISSION_DENIED"


class NotFound(ServiceError):
    status_code = 404
    grpc_code = "NOT_FOUND"


class Conflict(ServiceError):
    status_code = 409
    grpc_code = "ALREADY_EXISTS"


class RateLimited(ServiceError):
    status_code = 429
    grpc_code = "RESOURCE_EXHAUSTED"


class Unavailable(ServiceError):
    status_code = 503
    grpc_code = "UNAVAILABLE"


class DeadlineExceeded(ServiceError):
    status_code = 504
    grpc_code = "DEADLINE_EXCEEDED"


class InvalidParameter(ServiceError):
    """A request parameter is invalid where a schema cannot say so (e.g. two parameters that
    disagree): 422 like any other validation failure, with ``field`` (``query.end``) in the
    envelope's ``details``."""

    status_code = 422
    grpc_code = "INVALID_ARGUMENT"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field
