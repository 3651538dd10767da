"""The fleet-wide live record as aggregates in PostgreSQL (the admin dashboard's figures): what
``performance.summarise`` computes from closed rows, without loading them.

A trade is a signal closed with a net return that was not cancelled; a win is a trade with a
net return above zero; profit factor is the sum of winning returns over the magnitude of the sum
of losing ones (``None`` without a loss).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg

from layer4_timing_service.storage.signals import ACTIVE, STATUSES

CLOSED_STATUSES = tuple(s for s in STATUSES if s != ACTIVE)

_COUNTS = """
SELECT count(*) FILTER (WHERE generated_at >= $1) AS generated,
       count(*) FILTER (WHERE status = 'active') AS open
FROM signals
"""

_CLOSED = """
SELECT status,
       count(*) AS closed,
       count(net_return) FILTER (WHERE status <> 'cancelled') AS trades,
       count(*) FILTER (WHERE status <> 'cancelled' AND net_return > 0) AS wins,
       coalesce(sum(net_return) FILTER (WHERE status <> 'cancelled'), 0) AS total,
       coalesce(sum(net_return) FILTER (WHERE status <> 'cancelled' AND net_return > 0), 0) AS gains,
       coalesce(sum(net_return) FILTER (WHERE status <> 'cancelled' AND net_return < 0), 0) AS losses
FROM signals
WHERE closed_at >= $1
GROUP BY status
"""


@dataclass(frozen=True)
class Summary:
    generated: int
    open: int
    closed_by_outcome: dict[str, int]
    trades: int
    wins: int
    win_rate: float | None
    average_return: float | None
    total_return: float
    profit_factor: float | None


async def summary(conn: asyncpg.Connection, since: datetime) -> Summary:
    counts = await conn.fetchrow(_COUNTS, since)
    rows = await conn.fetch(_CLOSED, since)
    closed = {status: 0 for status in CLOSED_STATUSES}
    closed.update({r["status"]: int(r["closed"]) for r in rows})
    trades = sum(int(r["trades"]) for r in rows)
    wins = sum(int(r["wins"]) for r in rows)
    total = sum(float(r["total"]) for r in rows)
    losses = -sum(float(r["losses"]) for r in rows)
    return Summary(
        generated=int(counts["generated"]),
        open=int(counts["open"]),
        closed_by_outcome=closed,
        trades=trades,
        wins=wins,
        win_rate=wins / trades if trades else None,
        average_return=total / trades if trades else None,
        total_return=total,
        profit_factor=sum(float(r["gains"]) for r in rows) / losses if losses > 0 else None,
    )
