"""The replica's WebSocket hub: reads the bus, hands every entry to its connections, replays.

One dispatcher per replica reads the Redis stream (:mod:`notification_service.bus`) in order
and offers each entry to every open connection (a non-blocking queue put each). A connection
that arrives with a last event id is registered first (live entries are held back), then gets
the stream entries after its id up to the dispatcher's position, then the held live entries;
every connection remembers the newest id it was given, so nothing is sent twice.

Also here: heartbeats, and closing connections whose token was revoked (checked against the
shared denylist every few seconds, one Redis round trip for all connections).
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from cp_common.security.denylist import PREFIX as DENYLIST_PREFIX
from notification_service import metrics
from notification_service.bus import ZERO_ID, EventBus, id_key
from notification_service.connection import CloseCode, Connection

log = logging.getLogger(__name__)

#: How long one XREAD waits for new entries (below the Redis client's socket timeout).
READ_BLOCK_MS = 1000


class Hub:
    def __init__(self, bus: EventBus, redis: aioredis.Redis, *, replay_max_batch: int) -> None:
        self.bus = bus
        self._redis = redis
        self._replay_max_batch = replay_max_batch
        self.connections: set[Connection] = set()
        #: Id of the newest entry dispatched.
        self.position = ZERO_ID
        self.ready = asyncio.Event()

    # --- dispatching ------------------------------------------------------------------------

    async def dispatch_forever(self) -> None:
        while True:
            try:
                if not self.ready.is_set():
                    self.position = await self.bus.head()
                    self.ready.set()
                entries = await self.bus.read_after(self.position, block_ms=READ_BLOCK_MS)
            except (RedisError, OSError) as exc:
                log.warning("event bus read failed; retrying", extra={"error": repr(exc)})
                await asyncio.sleep(1.0)
                continue
            for entry in entries:
                self.position = entry.id
                for connection in list(self.connections):
                    connection.offer(entry)

    async def attach(self, connection: Connection, last_event_id: str | None) -> dict[str, object]:
        """Register ``connection``; with ``last_event_id``, first queue what it missed.

        Returns what the replay did (``from``, ``count``, ``complete``) for the client.
        """
        await self.ready.wait()
        self.connections.add(connection)
        metrics.CONNECTIONS.labels(connection.audience.value).inc()
        head = self.position  # every entry after this one will be offered live
        if last_event_id is None or id_key(last_event_id) >= id_key(head):
            connection.last_key = id_key(head)
            return {"from": last_event_id, "count": 0, "complete": True}
        connection.replay_start(last_event_id)
        entries = await self.bus.range_after(last_event_id, head, count=self._replay_max_batch)
        oldest = await self.bus.oldest()
        for entry in entries:
            connection.deliver(entry)
        connection.release_held()
        metrics.REPLAYED.inc(len(entries))
        trimmed = oldest is not None and id_key(oldest) > id_key(last_event_id)
        truncated = len(entries) >= self._replay_max_batch
        return {"from": last_event_id, "count": len(entries), "complete": not (trimmed or truncated)}

    def detach(self, connection: Connection) -> None:
        if connection in self.connections:
            self.connections.discard(connection)
            metrics.CONNECTIONS.labels(connection.audience.value).dec()

    # --- housekeeping -----------------------------------------------------------------------

    async def heartbeat_forever(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            message = {
                "type": "heartbeat",
                "timestamp": datetime.now(UTC).isoformat(),
                "data": {"active_connections": len(self.connections), "last_event_id": self.position},
            }
            for connection in list(self.connections):
                connection.push_json(message)

    async def check_revocations_forever(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                await self.close_revoked()
            except (RedisError, OSError) as exc:
                log.warning("revocation check failed", extra={"error": repr(exc)})

    async def close_revoked(self) -> int:
        connections = list(self.connections)
        if not connections:
            return 0
        async with self._redis.pipeline(transaction=False) as pipe:
            for connection in connections:
                pipe.exists(f"{DENYLIST_PREFIX}{connection.principal.jti}")
            revoked = await pipe.execute()
        closed = 0
        for connection, is_revoked in zip(connections, revoked, strict=True):
            if is_revoked:
                connection.close(CloseCode.SESSION_ENDED, "token revoked")
                closed += 1
        return closed

    def close_all(self, code: int, reason: str) -> None:
        for connection in list(self.connections):
            connection.close(code, reason)


def seconds_until(expires_at: datetime) -> float:
    return max(expires_at.timestamp() - time.time(), 0.0)
