"""OpenAPI that describes what a service really answers.

FastAPI declares only the success response and its own 422 schema. :func:`install_openapi`
post-processes the generated document of every app built by the factory:

- every error response uses the project's :class:`ErrorEnvelope` schema (422 included);
- every operation declares 500 and 503 (a dependency outage); one with a request body 400 (not
  JSON), 413 and 422, one with parameters 422, one with a path parameter 404, one that needs a token 401 and
  403;
- an operation whose only security scheme is :func:`public_scheme` and public by the app's
  settings declares no security and no 401/403 (reads that are public in local mode).

Route-specific statuses (409, 429, 400 from domain rules) are declared on the route with
``responses=error_responses(409, 429)``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.security.base import SecurityBase

from cp_common.http.envelope import ErrorEnvelope

ERROR_SCHEMA = "ErrorEnvelope"
_ERROR_REF = {"$ref": f"#/components/schemas/{ERROR_SCHEMA}"}
_FASTAPI_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")
_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}

ERROR_DESCRIPTIONS = {
    400: "Bad request (a rule the request breaks)",
    401: "Missing, invalid, expired or revoked access token",
    403: "The caller's role may not do this",
    404: "Not found",
    409: "Conflict with the current state",
    413: "Request body too large",
    422: "Validation failed (the offending fields are in details)",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable (a dependency is unreachable or not ready)",
}

S = TypeVar("S", bound=SecurityBase)


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route: each status answered with the error envelope."""
    return {
        status: {"model": ErrorEnvelope, "description": ERROR_DESCRIPTIONS.get(status, "Error")}
        for status in statuses
    }


#: Security scheme name -> "are its routes public under these settings?"
_PUBLIC_SCHEMES: dict[str, Callable[[Any], bool]] = {}


def public_scheme(scheme: S, predicate: Callable[[Any], bool]) -> S:
    """Register ``scheme`` (a FastAPI security scheme with its own ``scheme_name``) as one whose
    routes are public when ``predicate(app.state.settings)`` holds: their OpenAPI operations then
    declare no security and no 401/403. The routes must enforce the same rule at request time."""
    _PUBLIC_SCHEMES[scheme.scheme_name] = predicate
    return scheme


def _is_public(operation: dict[str, Any], settings: Any) -> bool:
    requirements: list[dict[str, Any]] = operation.get("security", [])
    names = {name for requirement in requirements for name in requirement}
    return bool(names) and all(name in _PUBLIC_SCHEMES and _PUBLIC_SCHEMES[name](settings) for name in names)


def _error_response(status: int) -> dict[str, Any]:
    return {
        "description": ERROR_DESCRIPTIONS.get(status, "Error"),
        "content": {"application/json": {"schema": dict(_ERROR_REF)}},
    }


def _statuses(operation: dict[str, Any], *, public: bool) -> set[int]:
    statuses = {500, 503}
    parameters = operation.get("parameters", [])
    if parameters or "requestBody" in operation:
        statuses.add(422)
    if "requestBody" in operation:
        statuses |= {400, 413}  # 400: a body that is not JSON
    if any(p.get("in") == "path" for p in parameters):
        statuses.add(404)
    if operation.get("security") and not public:
        statuses |= {401, 403}
    return statuses


def _describe(operation: dict[str, Any], *, public: bool) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    if public:
        operation.pop("security", None)
        for auth_status in ("401", "403"):
            responses.pop(auth_status, None)
    for code in _statuses(operation, public=public):
        responses.setdefault(str(code), _error_response(code))
    for status, response in responses.items():
        if status.isdigit() and int(status) >= 400:
            response["content"] = {"application/json": {"schema": dict(_ERROR_REF)}}


def _add_error_schema(document: dict[str, Any]) -> None:
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    envelope = ErrorEnvelope.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(envelope.pop("$defs", {}))
    schemas[ERROR_SCHEMA] = envelope
    for name in _FASTAPI_VALIDATION_SCHEMAS:  # replaced by the envelope everywhere
        schemas.pop(name, None)


def _drop_unused_schemes(document: dict[str, Any]) -> None:
    used = {
        name
        for item in document.get("paths", {}).values()
        for method, operation in item.items()
        if method in _METHODS
        for requirement in operation.get("security", [])
        for name in requirement
    }
    schemes: dict[str, Any] = document.get("components", {}).get("securitySchemes", {})
    for name in set(schemes) - used:
        del schemes[name]


def build_openapi(app: FastAPI) -> dict[str, Any]:
    document = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
    )
    settings = getattr(app.state, "settings", None)
    for item in document.get("paths", {}).values():
        for method, operation in item.items():
            if method in _METHODS:
                _describe(operation, public=_is_public(operation, settings))
    _add_error_schema(document)
    _drop_unused_schemes(document)
    return document


def install_openapi(app: FastAPI) -> None:
    """Serve :func:`build_openapi`'s document (built once, on first use) at ``app.openapi_url``."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build_openapi(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
