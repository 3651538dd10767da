"""Cascade runs: one row per run id (a retried id updates its row), written with its
``cascade.runs.v1`` event in the same transaction (the outbox)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
from google.protobuf.message import Message

from cp_common import topics
from cp_common.kafka import outbox
from orchestrator_service import SCHEMA


@dataclass(frozen=True)
class RunRow:
    run_id: str
    trigger: str
    mode: str
    status: str
    symbols: list[str]
    started_at: datetime
    finished_at: datetime | None
    attempts: int
    layers: list[dict[str, Any]]
    model_versions: dict[str, str]
    degraded_layers: list[str]
    cascade_confidence: float | None
    signal_count: int
    error: str
    response: bytes | None


def _row(record: asyncpg.Record) -> RunRow:
    data = dict(record)
    data["layers"] = json.loads(data["layers"])
    data["model_versions"] = json.loads(data["model_versions"])
    data["symbols"] = list(data["symbols"])
    data["degraded_layers"] = list(data["degraded_layers"])
    data["response"] = bytes(data["response"]) if data["response"] is not None else None
    return RunRow(**data)


async def start(
    pool: asyncpg.Pool,
    *,
    run_id: str,
    trigger: str,
    mode: str,
    symbols: list[str],
    started_at: datetime,
    event: Message,
) -> int:
    """Records the run as running (again, for a retried id); returns the attempt number."""
    async with pool.acquire() as conn, conn.transaction():
        attempts = await conn.fetchval(
            """
            INSERT INTO cascade_runs (run_id, trigger, mode, status, symbols, started_at)
            VALUES ($1, $2, $3, 'running', $4, $5)
            ON CONFLICT (run_id) DO UPDATE
                SET status = 'running', started_at = excluded.started_at, finished_at = NULL,
                    attempts = cascade_runs.attempts + 1, error = ''
            RETURNING attempts
            """,
            run_id,
            trigger,
            mode,
            symbols,
            started_at,
        )
        await outbox.enqueue(conn, topics.CASCADE_RUNS.name, event, schema=SCHEMA)
    return int(attempts)


@dataclass(frozen=True)
class RunOutcome:
    status: str
    finished_at: datetime
    layers: list[dict[str, Any]]
    model_versions: dict[str, str]
    degraded_layers: list[str]
    cascade_confidence: float | None
    signal_count: int
    error: str
    response: bytes | None


async def finish(pool: asyncpg.Pool, run_id: str, outcome: RunOutcome, event: Message) -> None:
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(
            """
            UPDATE cascade_runs
               SET status = $2, finished_at = $3, layers = $4, model_versions = $5, degraded_layers = $6,
                   cascade_confidence = $7, signal_count = $8, error = $9, response = $10
             WHERE run_id = $1
            """,
            run_id,
            outcome.status,
            outcome.finished_at,
            json.dumps(outcome.layers),
            json.dumps(outcome.model_versions),
            outcome.degraded_layers,
            outcome.cascade_confidence,
            outcome.signal_count,
            outcome.error,
            outcome.response,
        )
        await outbox.enqueue(conn, topics.CASCADE_RUNS.name, event, schema=SCHEMA)


async def get(pool: asyncpg.Pool, run_id: str) -> RunRow | None:
    record = await pool.fetchrow(
        """
        SELECT run_id, trigger, mode, status, symbols, started_at, finished_at, attempts, layers,
               model_versions, degraded_layers, cascade_confidence, signal_count, error, response
          FROM cascade_runs WHERE run_id = $1
        """,
        run_id,
    )
    return _row(record) if record is not None else None


async def recent(pool: asyncpg.Pool, *, limit: int, status: str | None = None) -> list[RunRow]:
    records = await pool.fetch(
        """
        SELECT run_id, trigger, mode, status, symbols, started_at, finished_at, attempts, layers,
               model_versions, degraded_layers, cascade_confidence, signal_count, error, response
          FROM cascade_runs WHERE ($2::text IS NULL OR status = $2)
         ORDER BY started_at DESC LIMIT $1
        """,
        limit,
        status,
    )
    return [_row(r) for r in records]


async def latest_completed(pool: asyncpg.Pool) -> RunRow | None:
    """The newest run that produced an answer (succeeded or degraded)."""
    record = await pool.fetchrow(
        """
        SELECT run_id, trigger, mode, status, symbols, started_at, finished_at, attempts, layers,
               model_versions, degraded_layers, cascade_confidence, signal_count, error, response
          FROM cascade_runs WHERE status IN ('succeeded', 'degraded') AND response IS NOT NULL
         ORDER BY finished_at DESC LIMIT 1
        """
    )
    return _row(record) if record is not None else None


async def claim_slot(pool: asyncpg.Pool, slot: int, replica: str) -> bool:
    """True for exactly one replica per scheduled slot."""
    claimed = await pool.fetchval(
        """
        INSERT INTO schedule_claims (slot, claimed_by) VALUES ($1, $2)
        ON CONFLICT DO NOTHING RETURNING slot
        """,
        slot,
        replica,
    )
    return claimed is not None
