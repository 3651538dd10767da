"""Structured JSON logging with request/trace ids and secret redaction.

Every record becomes one JSON object per line. Fields whose name looks secret
(password, token, secret, authorization, api key, cookie) are replaced, and secret-looking
values inside messages (bearer tokens, JWTs, ``password=...`` pairs) are masked, so no
credential reaches a log line even when a developer logs a dict carelessly.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from opentelemetry import trace

from cp_common.context import caller_var, request_id_var

REDACTED = "[REDACTED]"

_SECRET_KEY = re.compile(
    r"pass(word|wd)?|secret|token|authorization|api[_-]?key|cookie|credential|private[_-]?key",
    re.IGNORECASE,
)
_SECRET_VALUE_PATTERNS = (
    # JWTs: three base64url segments, the first starting with eyJ ('{"').
    re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"),
    re.compile(r"(?i)(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}"),
    re.compile(
        r"(?i)\b(pass(word|wd)?|secret|token|api[_-]?key|refresh_token|access_token)"
        r"(\"?\s*[:=]\s*\"?)([^\s\"&,;]+)"
    ),
)

# Attributes every LogRecord has; anything else was passed via ``extra=`` and is logged.
_RESERVED = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


def redact_text(text: str) -> str:
    """Mask secret-looking substrings of free text."""
    text = _SECRET_VALUE_PATTERNS[0].sub(REDACTED, text)
    text = _SECRET_VALUE_PATTERNS[1].sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    return _SECRET_VALUE_PATTERNS[2].sub(lambda m: f"{m.group(1)}{m.group(3)}{REDACTED}", text)


def redact(value: Any, key: str | None = None) -> Any:
    """Return ``value`` with secret fields (by key) and secret-looking strings masked."""
    if key is not None and _SECRET_KEY.search(key):
        return REDACTED
    if isinstance(value, Mapping):
        return {str(k): redact(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [redact(v) for v in value]
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, int | float | bool) or value is None:
        return value
    return redact_text(str(value))


class JsonFormatter(logging.Formatter):
    def __init__(self, service_name: str) -> None:
        super().__init__()
        self.service_name = service_name

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "service": self.service_name,
            "logger": record.name,
            "message": redact_text(record.getMessage()),
        }
        request_id = request_id_var.get()
        if request_id:
            entry["request_id"] = request_id
        caller = caller_var.get()
        if caller:
            entry["caller"] = caller
        span_context = trace.get_current_span().get_span_context()
        if span_context.is_valid:
            entry["trace_id"] = format(span_context.trace_id, "032x")
            entry["span_id"] = format(span_context.span_id, "016x")
        for key, value in record.__dict__.items():
            if key not in _RESERVED and not key.startswith("_"):
                entry[key] = redact(value, key)
        if record.exc_info:
            entry["exception"] = redact_text(self.formatException(record.exc_info))
        return json.dumps(entry, default=str, ensure_ascii=False)


def configure_logging(service_name: str, level: str = "INFO") -> None:
    """Send every logger (ours, uvicorn's, aiokafka's) to stdout as JSON lines."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter(service_name))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "aiokafka", "grpc"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
    # uvicorn's access log duplicates our request log (which has ids and no query strings).
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
    logging.getLogger("aiokafka").setLevel(max(logging.getLevelName(level), logging.WARNING))
