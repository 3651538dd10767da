"""The suggestion queue and its reviews."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from admin_service.domain import REVIEWABLE, Decision, SuggestionStatus, SuggestionType


@dataclass(frozen=True)
class NewSuggestion:
    id: str
    symbol: str
    suggestion_type: SuggestionType
    confidence: float
    ai_reasoning: str
    supporting_data: dict[str, float]
    model_version: str
    cascade_run_id: str
    suggested_at: datetime
    expires_at: datetime


def suggestion_view(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "id": str(row["id"]),
        "symbol": row["symbol"],
        "suggestion_type": row["suggestion_type"],
        "confidence": row["confidence"],
        "ai_reasoning": row["ai_reasoning"],
        "supporting_data": json.loads(row["supporting_data"]),
        "model_version": row["model_version"],
        "cascade_run_id": row["cascade_run_id"] or None,
        "suggested_at": row["suggested_at"],
        "expires_at": row["expires_at"],
        "status": row["status"],
        "reviewed_at": row["reviewed_at"],
    }


async def insert(conn: asyncpg.Connection, new: NewSuggestion) -> bool:
    """Queue ``new``; False if a suggestion with its id is already queued (a replay)."""
    inserted = await conn.fetchval(
        "INSERT INTO suggestions (id, symbol, suggestion_type, confidence, ai_reasoning, supporting_data, "
        "model_version, cascade_run_id, suggested_at, expires_at) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (id) DO NOTHING RETURNING 1",
        uuid.UUID(new.id),
        new.symbol,
        new.suggestion_type.value,
        new.confidence,
        new.ai_reasoning,
        json.dumps(new.supporting_data, sort_keys=True),
        new.model_version,
        new.cascade_run_id,
        new.suggested_at,
        new.expires_at,
    )
    return bool(inserted)


async def get(conn: asyncpg.Connection, suggestion_id: str, *, lock: bool = False) -> asyncpg.Record | None:
    suffix = " FOR UPDATE" if lock else ""
    return await conn.fetchrow(
        f"SELECT * FROM suggestions WHERE id = $1{suffix}",  # noqa: S608
        uuid.UUID(suggestion_id),
    )


async def queue(
    pool: asyncpg.Pool, *, status: SuggestionStatus, confidence_min: float, limit: int
) -> list[asyncpg.Record]:
    async with pool.acquire() as conn:
        return await conn.fetch(
            "SELECT * FROM suggestions WHERE status = $1 AND confidence >= $2 "
            "ORDER BY confidence DESC, suggested_at, id LIMIT $3",
            status.value,
            confidence_min,
            limit,
        )


async def set_status(
    conn: asyncpg.Connection, suggestion_id: str, status: SuggestionStatus
) -> asyncpg.Record:
    return await conn.fetchrow(
        "UPDATE suggestions SET status = $2, reviewed_at = now() WHERE id = $1 RETURNING *",
        uuid.UUID(suggestion_id),
        status.value,
    )


async def add_review(
    conn: asyncpg.Connection,
    suggestion_id: str,
    decision: Decision,
    reviewer_id: str,
    reviewer_email: str,
    note: str,
) -> asyncpg.Record:
    return await conn.fetchrow(
        "INSERT INTO suggestion_reviews (id, suggestion_id, decision, reviewer_id, reviewer_email, note) "
        "VALUES ($1, $2, $3, $4, $5, $6) RETURNING *",
        uuid.uuid4(),
        uuid.UUID(suggestion_id),
        decision.value,
        uuid.UUID(reviewer_id),
        reviewer_email,
        note,
    )


async def expire_stale(pool: asyncpg.Pool) -> int:
    """Mark every pending or deferred suggestion past its expiry as expired; returns how many."""
    async with pool.acquire() as conn:
        result = await conn.execute(
            "UPDATE suggestions SET status = 'expired' "
            "WHERE status = ANY($1::text[]) AND expires_at <= now()",
            [s.value for s in REVIEWABLE],
        )
    return int(result.split()[-1])


async def queue_stats(pool: asyncpg.Pool, high_confidence: float) -> dict[str, Any]:
    async with pool.acquire() as conn:
        rows = await conn.fetch("SELECT status, count(*) AS n FROM suggestions GROUP BY status")
        high = await conn.fetchval(
            "SELECT count(*) FROM suggestions WHERE status = 'pending' AND confidence > $1", high_confidence
        )
        oldest = await conn.fetchval("SELECT min(suggested_at) FROM suggestions WHERE status = 'pending'")
    by_status = {status.value: 0 for status in SuggestionStatus}
    by_status.update({row["status"]: row["n"] for row in rows})
    return {"by_status": by_status, "pending_high_confidence": high, "oldest_pending_at": oldest}
