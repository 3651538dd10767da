"""Each layer's latest successful result, shared by every replica: the fallback of a failed
call and what ``quick`` reuses for Layers 1 and 2."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg


@dataclass(frozen=True)
class StoredResult:
    layer: int
    run_id: str
    response: bytes
    produced_at: datetime

    def age_s(self, now: datetime | None = None) -> float:
        return ((now or datetime.now(UTC)) - self.produced_at).total_seconds()


async def save(pool: asyncpg.Pool, layer: int, run_id: str, response: bytes, produced_at: datetime) -> None:
    """Keeps the newest per layer (an older result arriving late does not replace a newer one)."""
    await pool.execute(
        """
        INSERT INTO layer_latest (layer, run_id, response, produced_at) VALUES ($1, $2, $3, $4)
        ON CONFLICT (layer) DO UPDATE
            SET run_id = excluded.run_id, response = excluded.response, produced_at = excluded.produced_at
            WHERE layer_latest.produced_at <= excluded.produced_at
        """,
        layer,
        run_id,
        response,
        produced_at,
    )


async def load(pool: asyncpg.Pool, layer: int) -> StoredResult | None:
    row = await pool.fetchrow(
        "SELECT layer, run_id, response, produced_at FROM layer_latest WHERE layer = $1", layer
    )
    if row is None:
        return None
    return StoredResult(row["layer"], row["run_id"], bytes(row["response"]), row["produced_at"])
