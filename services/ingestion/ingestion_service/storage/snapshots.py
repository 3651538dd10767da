"""Market snapshots: total market cap, dominance, Fear & Greed at a moment (``taken_at``).

A snapshot frame has the columns :data:`SNAPSHOT_FIELDS` (NaN / None = unknown). Upserts merge:
a known value replaces the stored one, an unknown value keeps it (the daily series of different
files fill different columns of the same day). Identical rows are not rewritten.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg
import pandas as pd

from ingestion_service.storage.bulk import NEVER

SNAPSHOT_FIELDS: tuple[str, ...] = (
    "taken_at",
    "total_market_cap",
    "total_volume_24h",
    "btc_dominance",
    "eth_dominance",
    "stablecoin_dominance",
    "usdt_market_cap",
    "fear_greed",
    "fear_greed_label",
    "stale_market_cap",
    "source",
)
_NUMBERS = SNAPSHOT_FIELDS[1:8]
_TYPES = ("timestamptz", *["float8"] * 7, "text", "bool", "text")
_MERGED = SNAPSHOT_FIELDS[1:]


def _clean(value: object) -> object:
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if value is pd.NA or value is pd.NaT:
        return None
    return value


def snapshot_columns(frame: pd.DataFrame) -> list[list[object]]:
    """The frame as one list per column (NaN -> None), in :data:`SNAPSHOT_FIELDS` order."""
    columns: list[list[object]] = []
    for name in SNAPSHOT_FIELDS:
        if name == "taken_at":
            columns.append(list(pd.to_datetime(frame["taken_at"], utc=True).array.to_pydatetime()))
        elif name in _NUMBERS:
            columns.append([None if _clean(v) is None else float(v) for v in frame[name]])
        elif name == "stale_market_cap":
            columns.append([False if _clean(v) is None else bool(v) for v in frame[name]])
        else:
            columns.append([None if _clean(v) is None else str(v) for v in frame[name]])
    return columns


@dataclass(frozen=True)
class SnapshotOutcome:
    inserted: int
    updated: int
    unchanged: int
    new_live: list[datetime]


_UPSERT = f"""
    WITH upserted AS (
        INSERT INTO market_snapshots AS m ({", ".join(SNAPSHOT_FIELDS)})
        SELECT * FROM unnest({", ".join(f"${i + 2}::{t}[]" for i, t in enumerate(_TYPES))})
        ON CONFLICT (taken_at) DO UPDATE SET
            {", ".join(f"{c} = COALESCE(EXCLUDED.{c}, m.{c})" for c in _MERGED)}, updated_at = now()
        WHERE ({", ".join(f"m.{c}" for c in _MERGED)})
              IS DISTINCT FROM ({", ".join(f"COALESCE(EXCLUDED.{c}, m.{c})" for c in _MERGED)})
        RETURNING m.taken_at, (m.xmax = 0) AS inserted
    )
    SELECT count(*) FILTER (WHERE inserted) AS inserted,
           count(*) FILTER (WHERE NOT inserted) AS updated,
           array_agg(taken_at) FILTER (WHERE inserted AND taken_at > $1) AS new_live
    FROM upserted
"""  # noqa: S608


async def upsert_snapshots(
    conn: asyncpg.Connection, frame: pd.DataFrame, *, publish_after: datetime | None = None
) -> SnapshotOutcome:
    if frame.empty:
        return SnapshotOutcome(0, 0, 0, [])
    frame = frame.drop_duplicates("taken_at", keep="last")
    row = await conn.fetchrow(_UPSERT, publish_after or NEVER, *snapshot_columns(frame))
    assert row is not None
    inserted, updated = int(row["inserted"]), int(row["updated"])
    return SnapshotOutcome(inserted, updated, len(frame) - inserted - updated, list(row["new_live"] or []))


_SELECT = ", ".join(SNAPSHOT_FIELDS)


async def latest_snapshot(conn: asyncpg.Connection | asyncpg.Pool) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"SELECT {_SELECT} FROM market_snapshots ORDER BY taken_at DESC LIMIT 1"  # noqa: S608
    )


async def snapshots_between(
    conn: asyncpg.Connection | asyncpg.Pool, start: datetime, end: datetime, limit: int
) -> list[asyncpg.Record]:
    """Snapshots with ``start <= taken_at <= end``, oldest first (the newest ``limit``)."""
    rows = await conn.fetch(
        f"""
        SELECT {_SELECT} FROM market_snapshots WHERE taken_at >= $1 AND taken_at <= $2
        ORDER BY taken_at DESC LIMIT $3
        """,  # noqa: S608
        start,
        end,
        limit,
    )
    return list(reversed(rows))


async def snapshots_at(conn: asyncpg.Connection, times: Sequence[datetime]) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"SELECT {_SELECT} FROM market_snapshots WHERE taken_at = ANY($1::timestamptz[]) ORDER BY taken_at",  # noqa: S608
        list(times),
    )


async def market_cap_before(conn: asyncpg.Connection | asyncpg.Pool, moment: datetime) -> float | None:
    """Total market cap of the last snapshot at least a day before ``moment`` (for 24h change)."""
    return await conn.fetchval(
        """
        SELECT total_market_cap FROM market_snapshots
        WHERE taken_at <= $1::timestamptz - interval '1 day' AND total_market_cap IS NOT NULL
        ORDER BY taken_at DESC LIMIT 1
        """,
        moment,
    )
