"""Local copies of other services' facts, fed by their events: the latest Layer 3 score per asset
(``analysis.asset.v1``) and the cascade runs (``cascade.runs.v1``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg


async def upsert_asset_score(
    conn: asyncpg.Connection,
    *,
    symbol: str,
    ai_score: float,
    confidence: float,
    recommendation: str,
    model_version: str,
    analyzed_at: datetime,
) -> None:
    """Keep the newest score per symbol (an older, late event does not overwrite it)."""
    await conn.execute(
        "INSERT INTO asset_scores (symbol, ai_score, confidence, recommendation, model_version, analyzed_at) "
        "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (symbol) DO UPDATE SET ai_score = EXCLUDED.ai_score, "
        "confidence = EXCLUDED.confidence, recommendation = EXCLUDED.recommendation, "
        "model_version = EXCLUDED.model_version, analyzed_at = EXCLUDED.analyzed_at "
        "WHERE asset_scores.analyzed_at <= EXCLUDED.analyzed_at",
        symbol,
        ai_score,
        confidence,
        recommendation,
        model_version,
        analyzed_at,
    )


async def asset_scores(conn: asyncpg.Connection, symbols: Sequence[str]) -> dict[str, dict[str, Any]]:
    rows = await conn.fetch("SELECT * FROM asset_scores WHERE symbol = ANY($1::text[])", list(symbols))
    return {
        row["symbol"]: {
            "ai_score": row["ai_score"],
            "confidence": row["confidence"],
            "recommendation": row["recommendation"],
            "model_version": row["model_version"],
            "analyzed_at": row["analyzed_at"],
        }
        for row in rows
    }


async def upsert_cascade_run(conn: asyncpg.Connection, run: dict[str, Any]) -> None:
    await conn.execute(
        "INSERT INTO cascade_runs (run_id, status, trigger, started_at, finished_at, cascade_confidence, "
        "signals_generated, suggestions_created) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
        "ON CONFLICT (run_id) DO UPDATE SET status = EXCLUDED.status, trigger = EXCLUDED.trigger, "
        "started_at = coalesce(EXCLUDED.started_at, cascade_runs.started_at), "
        "finished_at = coalesce(EXCLUDED.finished_at, cascade_runs.finished_at), "
        "cascade_confidence = EXCLUDED.cascade_confidence, signals_generated = EXCLUDED.signals_generated, "
        "suggestions_created = EXCLUDED.suggestions_created, updated_at = now()",
        run["run_id"],
        run["status"],
        run["trigger"],
        run["started_at"],
        run["finished_at"],
        run["cascade_confidence"],
        run["signals_generated"],
        run["suggestions_created"],
    )


async def latest_cascade_run(pool: asyncpg.Pool) -> dict[str, Any] | None:
    async with pool.acquire() as conn:
        row = await conn.fetchrow(
            "SELECT * FROM cascade_runs ORDER BY started_at DESC NULLS LAST, updated_at DESC LIMIT 1"
        )
    return None if row is None else {k: row[k] for k in row.keys() if k != "updated_at"}
