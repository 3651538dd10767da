"""The one response envelope of the public API.

Success: ``{"success": true, "data": ..., "timestamp": ...}``.
Error:   ``{"success": false, "error": "...", "error_code": 404, "timestamp": ...}`` plus an
optional ``details`` list (validation problems) and the ``request_id``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from fastapi.responses import Response
from pydantic import BaseModel, Field

T = TypeVar("T")


def utc_now() -> datetime:
    return datetime.now(UTC)


class Envelope(BaseModel, Generic[T]):
    success: bool = True
    data: T
    timestamp: datetime = Field(default_factory=utc_now)


class ErrorDetail(BaseModel):
    field: str
    message: str


class ErrorEnvelope(BaseModel):
    success: bool = False
    error: str
    error_code: int
    timestamp: datetime = Field(default_factory=utc_now)
    request_id: str | None = None
    details: list[ErrorDetail] | None = None


#: Kept for the life of the process: pydantic caches parametrised generics only weakly, so an
#: ``Envelope[Any]`` built per call is collected with its last answer and the next ``ok()``
#: builds the class (and its schema) again - the largest cost of some requests in the profile.
_ANY_ENVELOPE = Envelope[Any]


def ok(data: T) -> Envelope[T]:
    return _ANY_ENVELOPE(data=data)


def error_body(
    message: str, status: int, *, request_id: str | None = None, details: list[ErrorDetail] | None = None
) -> dict[str, Any]:
    body = ErrorEnvelope(error=message, error_code=status, request_id=request_id, details=details)
    return body.model_dump(mode="json", exclude_none=True)


def _timestamp() -> bytes:
    """``utc_now()`` as pydantic writes it in :class:`Envelope` (``...T09:07:03.198102Z``)."""
    return utc_now().isoformat().replace("+00:00", "Z").encode()


def ok_preserialised(data_json: bytes, *, headers: dict[str, str] | None = None) -> Response:
    """The success envelope around ``data`` that is already JSON (a cached answer), with a fresh
    ``timestamp``: the same bytes :class:`Envelope` would produce, without serialising again."""
    return Response(success_body(data_json), media_type="application/json", headers=headers)


def success_body(data_json: bytes) -> bytes:
    """The bytes of the success envelope around ``data`` that is already JSON."""
    return b'{"success":true,"data":' + data_json + b',"timestamp":"' + _timestamp() + b'"}'
