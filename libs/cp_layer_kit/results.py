"""Layer results stored once per cascade run and published once, through the outbox.

``layer_results.cascade_run_id`` is unique. :meth:`ResultStore.find` answers a retried call
before any inference; :meth:`ResultStore.store_once` inserts with ``ON CONFLICT DO NOTHING``
and enqueues the events in the same transaction only when its row went in. Two replicas
computing the same run at once both reach the insert; PostgreSQL makes the second wait for
the first's commit and then insert nothing, so it returns the first one's result and
publishes nothing: one row, one set of events.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
from google.protobuf.message import Message

from cp_common.kafka import enqueue_many
from cp_common.topics import Topic

#: Layer hook inside the storing transaction (e.g. Layer 3's suggestion de-duplication): it may
#: change the analysis and returns the events to publish with it.
Finalize = Callable[[asyncpg.Connection, "PendingResult"], Awaitable[None]]


@dataclass
class PendingResult:
    """A computed analysis on its way into the store."""

    analysis_id: str
    cascade_run_id: str
    as_of: datetime
    model_version: str
    inference_ms: float
    response: Message
    view: dict[str, Any]
    events: list[tuple[Topic, Sequence[Message]]]


@dataclass(frozen=True)
class StoredResult:
    analysis_id: str
    cascade_run_id: str
    as_of: datetime
    model_version: str
    inference_ms: float
    response: bytes
    view: dict[str, Any]
    created_at: datetime
    #: False for the call that stored it, True for every later answer from the store.
    replayed: bool

    @classmethod
    def from_row(cls, row: asyncpg.Record, *, replayed: bool) -> StoredResult:
        return cls(
            analysis_id=str(row["analysis_id"]),
            cascade_run_id=row["cascade_run_id"],
            as_of=row["as_of"],
            model_version=row["model_version"],
            inference_ms=row["inference_ms"],
            response=bytes(row["response"]),
            view=json.loads(row["view"]),
            created_at=row["created_at"],
            replayed=replayed,
        )


_COLUMNS = "analysis_id, cascade_run_id, as_of, model_version, inference_ms, response, view, created_at"


def new_analysis_id() -> str:
    return str(uuid.uuid4())


class ResultStore:
    def __init__(self, pool: asyncpg.Pool, schema: str) -> None:
        self.pool = pool
        self.schema = schema

    async def find(self, cascade_run_id: str) -> StoredResult | None:
        row = await self.pool.fetchrow(
            f"SELECT {_COLUMNS} FROM layer_results WHERE cascade_run_id = $1",  # noqa: S608
            cascade_run_id,
        )
        return StoredResult.from_row(row, replayed=True) if row else None

    async def store_once(self, pending: PendingResult, finalize: Finalize | None = None) -> StoredResult:
        """Store ``pending`` and enqueue its events, or return the run's existing result."""
        async with self.pool.acquire() as conn, conn.transaction():
            if finalize is not None:
                await finalize(conn, pending)
            row = await conn.fetchrow(
                f"""
                INSERT INTO layer_results ({_COLUMNS})
                VALUES ($1, $2, $3, $4, $5, $6, $7, now())
                ON CONFLICT (cascade_run_id) DO NOTHING
                RETURNING {_COLUMNS}
                """,  # noqa: S608
                uuid.UUID(pending.analysis_id),
                pending.cascade_run_id,
                pending.as_of,
                pending.model_version,
                pending.inference_ms,
                pending.response.SerializeToString(deterministic=True),
                json.dumps(pending.view, default=str),
            )
            if row is None:
                # another call stored this run first; the transaction (and anything finalize
                # wrote) is rolled back so nothing of this attempt remains
                raise _AlreadyStored
            for topic, messages in pending.events:
                if messages:
                    await enqueue_many(conn, topic.name, list(messages), schema=self.schema)
            return StoredResult.from_row(row, replayed=False)

    async def store_or_replay(self, pending: PendingResult, finalize: Finalize | None = None) -> StoredResult:
        try:
            return await self.store_once(pending, finalize)
        except _AlreadyStored:
            existing = await self.find(pending.cascade_run_id)
            if existing is None:  # pragma: no cover - the unique row cannot vanish
                raise RuntimeError("stored result disappeared") from None
            return existing

    async def latest(self) -> StoredResult | None:
        row = await self.pool.fetchrow(
            f"SELECT {_COLUMNS} FROM layer_results ORDER BY created_at DESC LIMIT 1"  # noqa: S608
        )
        return StoredResult.from_row(row, replayed=True) if row else None

    async def since(self, start: datetime, limit: int = 5000) -> list[StoredResult]:
        """Results created since ``start``, oldest first."""
        rows = await self.pool.fetch(
            f"SELECT {_COLUMNS} FROM layer_results WHERE created_at >= $1 "  # noqa: S608
            "ORDER BY created_at LIMIT $2",
            start,
            limit,
        )
        return [StoredResult.from_row(r, replayed=True) for r in rows]


class _AlreadyStored(Exception):
    """The run's row exists: roll the attempt back."""
