"""Events lost or applied twice across a fault, counted from the fleet's own tables.

Every service's schema has an ``outbox`` (what it published) and ``processed_events`` (the
event ids each of its consumer groups claimed, in the transaction that applied the event). Who
consumes a topic is read from the claims themselves: a group that has claimed an event of the
topic since the fleet started is a consumer of it. For the events published in a window (outbox
rows created in it, over every schema):

- *lost*: an (event, consuming group) pair with no claim, i.e. an effect that never happened;
- *duplicated*: a claim made more than once for one (event, group), or one event id published
  by two outbox rows, i.e. an effect that happened twice.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

import asyncpg


@dataclass(frozen=True)
class Delivery:
    events: int  # published in the window
    pairs: int  # (event, consuming group) pairs checked
    lost: int
    duplicated: int


async def db_now(database_url: str) -> datetime:
    conn = await asyncpg.connect(database_url)
    try:
        return datetime.fromisoformat(str(await conn.fetchval("SELECT now()")))
    finally:
        await conn.close()


async def _schemas(conn: asyncpg.Connection) -> list[str]:
    rows = await conn.fetch(
        "SELECT table_schema FROM information_schema.tables WHERE table_name = 'outbox' "
        "INTERSECT SELECT table_schema FROM information_schema.tables WHERE table_name = 'processed_events'"
    )
    return sorted(r["table_schema"] for r in rows)


async def _consumers(conn: asyncpg.Connection, schemas: list[str]) -> dict[str, list[tuple[str, str]]]:
    """topic -> the (schema, group) pairs that consume it."""
    consumers: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for schema in schemas:  # schema names come from the catalog's services
        for row in await conn.fetch(
            f'SELECT DISTINCT topic, consumer_group FROM "{schema}".processed_events'
        ):
            consumers[row["topic"]].append((schema, row["consumer_group"]))
    return consumers


async def _published(
    conn: asyncpg.Connection, schemas: list[str], since: datetime, until: datetime
) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = []
    for schema in schemas:
        rows += await conn.fetch(
            f'SELECT event_id, topic FROM "{schema}".outbox WHERE created_at >= $1 AND created_at < $2',
            since,
            until,
        )
    return rows


async def _claims(
    conn: asyncpg.Connection, schema: str, group: str, event_ids: list[object]
) -> tuple[int, int]:
    """(events of ``event_ids`` the group claimed, claims beyond one per event)."""
    row = await conn.fetchrow(
        f"SELECT count(DISTINCT event_id) AS claimed, count(*) - count(DISTINCT event_id) AS extra "
        f'FROM "{schema}".processed_events WHERE consumer_group = $1 AND event_id = ANY($2::uuid[])',
        group,
        event_ids,
    )
    assert row is not None
    return int(row["claimed"]), int(row["extra"])


async def deliveries(database_url: str, since: datetime, until: datetime) -> Delivery:
    conn = await asyncpg.connect(database_url)
    try:
        schemas = await _schemas(conn)
        consumers = await _consumers(conn, schemas)
        published = await _published(conn, schemas, since, until)
        by_topic: dict[str, list[object]] = defaultdict(list)
        for row in published:
            by_topic[row["topic"]].append(row["event_id"])
        pairs = lost = 0
        duplicated = len(published) - len({row["event_id"] for row in published})
        for topic, event_ids in by_topic.items():
            for schema, group in consumers.get(topic, []):
                claimed, extra = await _claims(conn, schema, group, event_ids)
                pairs += len(set(event_ids))
                lost += len(set(event_ids)) - claimed
                duplicated += extra
        return Delivery(events=len(published), pairs=pairs, lost=lost, duplicated=duplicated)
    finally:
        await conn.close()
