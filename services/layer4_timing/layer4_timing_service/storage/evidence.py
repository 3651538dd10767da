"""Live accuracy of each piece of evidence (voter) behind closed signals.

A voter that took a side is right when it sided with the signal and the trade made money, or
against it and the trade lost. Accuracy is over each voter's last ``window`` such outcomes and
its weight is ``max(min_weight, accuracy)``, as in the GoldenSignals design (seeds 004:1459-1497).
"""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from layer4_timing_service.storage.signals import SignalRecord


@dataclass(frozen=True)
class EvidenceAccuracy:
    voter: str
    samples: int
    accuracy: float
    weight: float


async def record_outcome(
    conn: asyncpg.Connection, signal: SignalRecord, *, window: int, min_weight: float
) -> None:
    if signal.net_return is None or signal.closed_at is None:
        return
    won = signal.net_return > 0
    sided = [v for v in signal.votes if v.action in ("long", "short")]
    if not sided:
        return
    await conn.executemany(
        "INSERT INTO evidence_outcomes (signal_id, voter, correct, closed_at) VALUES ($1, $2, $3, $4) "
        "ON CONFLICT DO NOTHING",
        [(signal.id, v.voter, (v.action == signal.signal_type) == won, signal.closed_at) for v in sided],
    )
    await conn.execute(
        "INSERT INTO evidence_accuracy (voter, samples, accuracy, weight) "
        "SELECT voter, count(*), avg(correct::int), greatest($3::float8, avg(correct::int)) FROM ("
        "  SELECT voter, correct,"
        "  row_number() OVER (PARTITION BY voter ORDER BY closed_at DESC, signal_id) AS n"
        "  FROM evidence_outcomes WHERE voter = ANY($1::text[])"
        ") recent WHERE n <= $2 GROUP BY voter "
        "ON CONFLICT (voter) DO UPDATE SET samples = EXCLUDED.samples, accuracy = EXCLUDED.accuracy, "
        "weight = EXCLUDED.weight, updated_at = now()",
        sorted({v.voter for v in sided}),
        window,
        min_weight,
    )


async def all_accuracy(conn: asyncpg.Connection) -> dict[str, EvidenceAccuracy]:
    rows = await conn.fetch("SELECT voter, samples, accuracy, weight FROM evidence_accuracy ORDER BY voter")
    return {r["voter"]: EvidenceAccuracy(**dict(r)) for r in rows}
