"""Kafka record headers that travel with every event (blueprint §3)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping

from cp_common.context import request_id_var
from cp_common.topics import CONTENT_TYPE
from cp_common.tracing import inject_headers

EVENT_ID = "event-id"
EVENT_TYPE = "event-type"
CONTENT_TYPE_HEADER = "content-type"
REQUEST_ID = "request-id"

# Added when a record is dead-lettered.
DLQ_ERROR = "dlq-error"
DLQ_ERROR_TYPE = "dlq-error-type"
DLQ_ORIGINAL_TOPIC = "dlq-original-topic"
DLQ_ORIGINAL_PARTITION = "dlq-original-partition"
DLQ_ORIGINAL_OFFSET = "dlq-original-offset"
DLQ_CONSUMER_GROUP = "dlq-consumer-group"
DLQ_FAILED_AT = "dlq-failed-at"


def new_event_headers(event_type: str, event_id: str | None = None) -> dict[str, str]:
    """Headers for a new event: id, type, content type, trace context and request id."""
    headers = {
        EVENT_ID: event_id or str(uuid.uuid4()),
        EVENT_TYPE: event_type,
        CONTENT_TYPE_HEADER: CONTENT_TYPE,
    }
    request_id = request_id_var.get()
    if request_id:
        headers[REQUEST_ID] = request_id
    inject_headers(headers)
    return headers


def encode(headers: Mapping[str, str]) -> list[tuple[str, bytes]]:
    return [(k, v.encode()) for k, v in headers.items()]


def decode(raw: Iterable[tuple[str, bytes]] | None) -> dict[str, str]:
    decoded: dict[str, str] = {}
    for key, value in raw or ():
        decoded[key] = value.decode("utf-8", errors="replace") if value is not None else ""
    return decoded
