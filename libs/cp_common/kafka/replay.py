"""Re-publishing outbox events after the broker lost them.

The embedded broker keeps topics in memory: a restart loses every record it held, including
records the outbox had already marked sent but no consumer had read yet. The outbox keeps sent
rows for its retention period, so those events can be published again. Replay only clears
``sent_at`` of the rows sent since a time: the running relay then publishes them once more, in
``id`` order and with their original event ids, and the idempotent consumers
(``processed_events``) drop every event they had already handled.

Two ways in:

- the operator command every service has, ``python -m <package> replay-outbox --since <time>``
  (see :mod:`cp_common.service`), or :func:`replay_since` from code;
- automatically, when the relay's :class:`BrokerWatch` sees that the broker no longer holds
  records it acknowledged (see :class:`cp_common.kafka.outbox.OutboxRelay`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from cp_common.metrics import OUTBOX_REPLAYED

log = logging.getLogger(__name__)

_DURATION = re.compile(r"^(\d+)([smhd])$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_since(text: str, *, now: datetime | None = None) -> datetime:
    """``2026-12-01T10:00:00Z`` (ISO 8601, UTC when no offset is given) or a duration back
    from now: ``90s``, ``15m``, ``2h``, ``7d``. Raises :class:`ValueError` otherwise."""
    value = text.strip()
    match = _DURATION.match(value)
    if match:
        seconds = int(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        return (now or datetime.now(UTC)) - timedelta(seconds=seconds)
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"not a time or a duration (like 15m, 2h, 7d): {text!r}") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


async def replay_since(
    pool: asyncpg.Pool,
    since: datetime,
    *,
    schema: str,
    topics: Sequence[str] | None = None,
    reason: str = "operator",
) -> int:
    """Mark every outbox row sent at or after ``since`` (optionally only of ``topics``) as
    unsent and wake the relay; returns how many rows will be published again."""
    from cp_common.kafka.outbox import notify_channel  # the outbox imports this module

    async with pool.acquire() as conn, conn.transaction():
        if topics:
            result = await conn.execute(
                "UPDATE outbox SET sent_at = NULL WHERE sent_at >= $1 AND topic = ANY($2::text[])",
                since,
                list(topics),
            )
        else:
            result = await conn.execute("UPDATE outbox SET sent_at = NULL WHERE sent_at >= $1", since)
        await conn.execute("SELECT pg_notify($1, '')", notify_channel(schema))
    count = int(result.split()[-1])
    OUTBOX_REPLAYED.labels(schema, reason).inc(count)
    log.warning(
        "outbox replay", extra={"schema": schema, "since": since.isoformat(), "rows": count, "reason": reason}
    )
    return count


class BrokerWatch:
    """Notices that the broker lost records this process published to it.

    Per partition it remembers the highest offset the broker acknowledged and the lowest one of
    the latest relay pass (the *floor*). The broker lost data when a later acknowledgement on that
    partition comes back with a lower offset than the highest (it restarted and counts from 0
    again), or when the partition's end offset, asked for by :meth:`check`, is at or below the
    floor (it restarted and nothing was written since).

    Why the floor and not the highest offset: the embedded broker answers a "latest offset" query
    with the base offset of the partition's last record batch plus one, not the offset after its
    last record, so after a pass that sent several records in one batch the end offset it reports
    is below the highest acknowledged one although nothing was lost. A pass's lowest offset on a
    partition is the base offset of its first batch there, so an intact broker always reports an
    end offset above it (Kafka, whose end offset is past the last record, does too).
    ``last_good`` is the last time the broker was seen holding everything acknowledged.
    """

    def __init__(self, bootstrap_servers: str, *, client_id: str, timeout_s: float = 10.0) -> None:
        self._vanished: set[str] = set()
        self._bootstrap_servers = bootstrap_servers
        self._client_id = client_id
        self._timeout_s = timeout_s
        self._acked: dict[TopicPartition, int] = {}
        self._floor: dict[TopicPartition, int] = {}
        self._probe: AIOKafkaConsumer | None = None
        self.last_good = datetime.now(UTC)

    def observe_pass(self, acks: Iterable[tuple[str, int, int]]) -> bool:
        """Record one relay pass's acknowledgements (topic, partition, offset); True if an
        offset went back (the broker lost data)."""
        lowest: dict[TopicPartition, int] = {}
        went_back = False
        for topic, partition, offset in acks:
            tp = TopicPartition(topic, partition)
            previous = self._acked.get(tp)
            went_back |= previous is not None and offset < previous
            self._acked[tp] = offset if previous is None else max(previous, offset)
            lowest[tp] = min(lowest.get(tp, offset), offset)
        self._floor.update(lowest)
        return went_back

    def reset(self) -> None:
        """Forget what was acknowledged: the next acknowledgements start a new history."""
        self._acked.clear()
        self._floor.clear()
        self.last_good = datetime.now(UTC)

    async def check(self) -> bool:
        """Ask the broker for its end offsets; True if it lost acknowledged records. A broker
        that does not answer is an outage, not a loss: False (the next check will tell)."""
        if not self._acked:
            self.last_good = datetime.now(UTC)
            return False
        try:
            ends = await asyncio.wait_for(self._end_offsets(), self._timeout_s)
        except (KafkaError, OSError, TimeoutError) as exc:
            log.info("broker watch: no answer", extra={"error": str(exc)})
            await self.close()
            return False
        lost = any(ends[tp] <= floor for tp, floor in self._floor.items() if tp in ends) or bool(
            self._vanished
        )
        if not lost:
            self.last_good = datetime.now(UTC)
        return lost

    async def _end_offsets(self) -> dict[TopicPartition, int]:
        if self._probe is None:
            probe = AIOKafkaConsumer(
                bootstrap_servers=self._bootstrap_servers,
                client_id=f"{self._client_id}-broker-watch",
                enable_auto_commit=False,
            )
            await probe.start()
            self._probe = probe
        probe = self._probe
        await probe._client.force_metadata_update()  # no public way to refresh metadata
        # A partition missing from one metadata answer is not a loss (metadata can lag); a topic
        # the broker no longer lists at all is.
        listed = probe._client.cluster.topics()
        self._vanished = {tp.topic for tp in self._acked if tp.topic not in listed}
        known = {tp for tp in self._acked if tp.partition in (probe.partitions_for_topic(tp.topic) or set())}
        ends: dict[TopicPartition, int] = await probe.end_offsets(sorted(known)) if known else {}
        return ends

    async def close(self) -> None:
        if self._probe is not None:
            probe, self._probe = self._probe, None
            with contextlib.suppress(Exception):
                await probe.stop()
