"""Exception handlers that answer every error in the envelope.

Validation errors list the offending fields but never echo the submitted values (they may
be passwords). A dependency that cannot be reached (PostgreSQL restarting or down, Redis
unreachable) is a 503 with ``Retry-After``: an outage, not a bug. Unexpected exceptions are
logged with the request id and answered with a generic 500, so internals never leak to clients.
"""

from __future__ import annotations

import logging

import asyncpg
import redis.exceptions
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from cp_common.context import request_id_var
from cp_common.errors import ServiceError
from cp_common.http.envelope import ErrorDetail, error_body

log = logging.getLogger("cp_common.http")

#: Exceptions meaning "a dependency is unreachable right now" (answered 503): a lost or refused
#: PostgreSQL connection, a server shutting down, starting up or out of connection slots, and
#: Redis connection failures. ``ConnectionError`` covers a refused or reset socket.
DEPENDENCY_OUTAGES: tuple[type[Exception], ...] = (
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.TooManyConnectionsError,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    ConnectionError,
)
DEPENDENCY_RETRY_AFTER_S = 1
MSG_DEPENDENCY_OUTAGE = "Service unavailable: a dependency is unreachable, retry shortly"

_STATUS_MESSAGES = {
    400: "Bad request",
    401: "Not authenticated",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Request entity too large",
    415: "Unsupported media type",
    422: "Validation failed",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}


def _respond(
    message: str, status: int, details: list[ErrorDetail] | None = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    body = error_body(message, status, request_id=request_id_var.get(), details=details)
    return JSONResponse(body, status_code=status, headers=headers)


async def _service_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ServiceError)
    if exc.status_code >= 500:
        log.warning("service error", extra={"error": exc.message, "status": exc.status_code})
    headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
    field = getattr(exc, "field", None)
    details = [ErrorDetail(field=field, message=exc.message)] if field else None
    return _respond(exc.message, exc.status_code, details=details, headers=headers)


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else None
    message = detail or _STATUS_MESSAGES.get(exc.status_code, "Error")
    return _respond(message, exc.status_code, headers=getattr(exc, "headers", None))


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    details = [
        ErrorDetail(field=".".join(str(p) for p in err.get("loc", ())), message=str(err.get("msg", "")))
        for err in exc.errors()
    ]
    return _respond("Validation failed", 422, details=details)


async def _dependency_outage(_: Request, exc: Exception) -> JSONResponse:
    log.warning("dependency unavailable", extra={"error_type": type(exc).__name__})
    return _respond(MSG_DEPENDENCY_OUTAGE, 503, headers={"Retry-After": str(DEPENDENCY_RETRY_AFTER_S)})


async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
    log.error("unhandled error", exc_info=exc)
    return _respond("Internal server error", 500)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ServiceError, _service_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    for outage in DEPENDENCY_OUTAGES:
        app.add_exception_handler(outage, _dependency_outage)
    app.add_exception_handler(Exception, _unexpected)
