"""Request context carried in gRPC metadata: request id, caller, W3C trace context.

Outgoing calls carry ``x-request-id`` and ``x-caller`` (from :mod:`cp_common.context`) and
``traceparent``/``tracestate`` (from the current OpenTelemetry context, via
``opentelemetry.propagate`` so whatever propagator is configured is used). Incoming calls
restore the same values on the server.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from opentelemetry import propagate
from opentelemetry.context import Context

from cp_common.context import CALLER_HEADER, REQUEST_ID_HEADER

MetadataPairs = Sequence[tuple[str, str | bytes]]

# Request ids and caller names end up in log lines and response headers: accept only a short,
# plain token so a caller cannot inject line breaks or megabytes of text.
_SAFE_TOKEN = re.compile(r"[A-Za-z0-9._:@/+=-]{1,128}")


def metadata_to_dict(metadata: Iterable[tuple[str, str | bytes]] | None) -> dict[str, str]:
    """Text metadata as a dict with lower-case keys (binary ``-bin`` entries are skipped)."""
    result: dict[str, str] = {}
    for key, value in metadata or ():
        if isinstance(value, str) and not key.endswith("-bin"):
            result.setdefault(key.lower(), value)
    return result


def safe_token(value: str | None) -> str | None:
    """``value`` if it is a short plain token, otherwise ``None``."""
    if value is not None and _SAFE_TOKEN.fullmatch(value):
        return value
    return None


def request_id_from(metadata: dict[str, str]) -> str | None:
    return safe_token(metadata.get(REQUEST_ID_HEADER))


def caller_from(metadata: dict[str, str]) -> str | None:
    return safe_token(metadata.get(CALLER_HEADER))


def extract_trace_context(metadata: dict[str, str]) -> Context:
    """The OpenTelemetry context a caller sent (an empty context when none was sent)."""
    return propagate.extract(metadata)


def trace_metadata(context: Context | None = None) -> list[tuple[str, str]]:
    """Metadata pairs (``traceparent``...) for the current or given OpenTelemetry context."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier, context=context)
    return sorted(carrier.items())
