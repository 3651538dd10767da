"""``/api/v1/layer4/signals``: the listing, one signal, paper execution and feedback."""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Query, Request
from pydantic_core import to_json

from cp_common.errors import BadRequest, NotFound
from cp_common.http import ok
from cp_common.http.hot_reads import hot_read
from layer4_timing_service import paper
from layer4_timing_service.api import views
from layer4_timing_service.api.deps import Components, DetailCaller, ExecuteCaller, FeedbackCaller, ListCaller
from layer4_timing_service.api.schemas import ExecuteIn, FeedbackIn
from layer4_timing_service.metrics import EXECUTIONS
from layer4_timing_service.storage import feedback as feedback_store
from layer4_timing_service.storage import signals as store
from layer4_timing_service.storage.signals import Cursor, SignalFilter

router = APIRouter(prefix="/api/v1/layer4", tags=["layer4"])

Status = Literal["active", "target_hit", "stopped_out", "expired", "cancelled"]
NOT_FOUND = "Signal not found"


def encode_cursor(cursor: Cursor) -> str:
    return base64.urlsafe_b64encode(f"{cursor.generated_at.isoformat()}|{cursor.id}".encode()).decode()


def decode_cursor(raw: str) -> Cursor:
    try:
        stamp, ident = base64.urlsafe_b64decode(raw.encode()).decode().split("|")
        return Cursor(datetime.fromisoformat(stamp), uuid.UUID(ident))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise BadRequest("cursor is not one this API returned") from None


def signal_uuid(raw: str) -> uuid.UUID:
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise NotFound(NOT_FOUND) from None


@router.get("/signals")
async def list_signals(
    request: Request,
    caller: ListCaller,
    components: Components,
    status: Status = "active",
    confidence_min: Annotated[float | None, Query(ge=0, le=1)] = None,
    symbol: Annotated[str | None, Query(pattern=r"^[A-Za-z0-9]{1,20}$")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> object:
    """Signals newest first; ``confidence_min`` defaults to the service's display gate."""
    where = SignalFilter(
        status=status,
        confidence_min=components.settings.layer4_default_confidence_min
        if confidence_min is None
        else confidence_min,
        symbol=symbol.upper() if symbol else None,
    )
    after = decode_cursor(cursor) if cursor else None

    async def build() -> bytes:
        async with components.pool.acquire() as conn:
            rows = await store.page(conn, where, limit + 1, after)
            total = await store.count(conn, where)
        page, more = rows[:limit], len(rows) > limit
        next_cursor = encode_cursor(Cursor(page[-1].generated_at, page[-1].id)) if more else None
        data = {
            "signals": [views.signal(s) for s in page],
            "total_signals": total,
            "filters": {
                "status": where.status,
                "min_confidence": where.confidence_min,
                "symbol": where.symbol,
            },
            "next_cursor": next_cursor,
        }
        return to_json(data)

    # public: every caller asking the same query gets the same page (kept pre-serialised)
    return await hot_read(request, components.reads, build)


@router.get("/signals/{signal_id}")
async def get_signal(signal_id: str, caller: DetailCaller, components: Components) -> object:
    """One signal with its reasoning, risk assessment and probability analysis."""
    async with components.pool.acquire() as conn:
        found = await store.get(conn, signal_uuid(signal_id))
    if found is None:
        raise NotFound(NOT_FOUND)
    return ok(views.signal_detail(found))


@router.post("/signals/{signal_id}/execute")
async def execute_signal(
    signal_id: str,
    caller: ExecuteCaller,
    components: Components,
    body: Annotated[ExecuteIn | None, Body()] = None,
) -> object:
    """Paper-trade a signal within the caller's risk limits (400 with the reason otherwise)."""
    order = paper.Order(caller.user_id, signal_uuid(signal_id), body.size if body else None)
    try:
        async with components.pool.acquire() as conn, conn.transaction():
            execution = await paper.execute(
                conn, order, components.risk_defaults, components.settings.layer4_clock
            )
    except Exception:
        EXECUTIONS.labels("refused").inc()
        raise
    EXECUTIONS.labels("executed").inc()
    return ok({"message": "Signal executed successfully", **views.execution(execution)})


@router.post("/signals/{signal_id}/feedback")
async def signal_feedback(
    signal_id: str, body: FeedbackIn, caller: FeedbackCaller, components: Components
) -> object:
    """Record (or replace) the caller's rating of a signal."""
    ident = signal_uuid(signal_id)
    async with components.pool.acquire() as conn, conn.transaction():
        if await store.get(conn, ident) is None:
            raise NotFound(NOT_FOUND)
        saved = await feedback_store.upsert(
            conn, ident, caller.user_id, body.rating, body.useful, body.comment
        )
    return ok(
        {
            "message": "Feedback submitted successfully",
            "signal_id": str(saved.signal_id),
            "rating": saved.rating,
            "useful": saved.useful,
        }
    )
