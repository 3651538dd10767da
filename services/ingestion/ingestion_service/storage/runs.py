"""Feed state (so a feed resumes after a restart) and the record of import runs."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import asyncpg


async def load_state(conn: asyncpg.Connection | asyncpg.Pool, feed: str) -> dict[str, Any] | None:
    raw = await conn.fetchval("SELECT state FROM feed_state WHERE feed = $1", feed)
    return None if raw is None else json.loads(raw)


async def save_state(conn: asyncpg.Connection | asyncpg.Pool, feed: str, state: dict[str, Any]) -> None:
    await conn.execute(
        """
        INSERT INTO feed_state (feed, state) VALUES ($1, $2::jsonb)
        ON CONFLICT (feed) DO UPDATE SET state = EXCLUDED.state, updated_at = now()
        """,
        feed,
        json.dumps(state, sort_keys=True),
    )


async def record_run(
    conn: asyncpg.Connection | asyncpg.Pool, source: str, started_at: datetime, summary: dict[str, Any]
) -> int:
    return await conn.fetchval(
        "INSERT INTO import_runs (source, started_at, summary) VALUES ($1, $2, $3::jsonb) RETURNING id",
        source,
        started_at,
        json.dumps(summary, default=str),
    )


async def recent_runs(conn: asyncpg.Connection | asyncpg.Pool, limit: int = 5) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT id, source, started_at, finished_at, summary FROM import_runs ORDER BY id DESC LIMIT $1",
        limit,
    )
    return [{**dict(row), "summary": json.loads(row["summary"])} for row in rows]
