"""Users' feedback on signals: one rating (1..5) per user and signal, replaced when given again."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import asyncpg


@dataclass(frozen=True)
class Feedback:
    signal_id: uuid.UUID
    user_id: str
    rating: int
    useful: bool | None
    comment: str
    created_at: datetime


async def upsert(
    conn: asyncpg.Connection,
    signal_id: uuid.UUID,
    user_id: str,
    rating: int,
    useful: bool | None,
    comment: str,
) -> Feedback:
    row = await conn.fetchrow(
        "INSERT INTO feedback (signal_id, user_id, rating, useful, comment) VALUES ($1, $2, $3, $4, $5) "
        "ON CONFLICT (signal_id, user_id) DO UPDATE SET rating = EXCLUDED.rating, useful = EXCLUDED.useful, "
        "comment = EXCLUDED.comment, created_at = now() RETURNING *",
        signal_id,
        user_id,
        rating,
        useful,
        comment,
    )
    return Feedback(**dict(row))
