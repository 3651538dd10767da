"""Recovery from a lost broker: the in-memory broker restarts mid-stream, losing records the
outbox had marked sent and no consumer had read; the relay notices and publishes them again,
and the idempotent consumer applies every event exactly once.

A broker of its own (the session's broker is shared with other tests), restarted on the same
port; the session's PostgreSQL.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest

from cp_common.db.migrations import upgrade
from cp_common.db.pool import close_pool, create_pool
from cp_common.kafka import EventConsumer, EventProducer, OutboxRelay, Subscription, enqueue, ensure_topics
from cp_common.kafka.consumer import Event
from cp_common.kafka.replay import BrokerWatch, parse_since, replay_since
from cp_common.metrics import BROKER_LOSSES
from cp_common.service import ServiceSpec, main
from cp_common.settings import ServiceSettings
from cp_common.tests.kafka_helpers import MIGRATIONS, TOPIC, candle_event, record_in_ledger
from cp_fleet.embedded import KafkaServer, find_free_port
from cp_fleet.processes import ServerProcess
from cp_testing.waiting import eventually

EVENTS_BEFORE = 150
EVENTS_AFTER = 100


class RestartableBroker:
    """One embedded broker on a fixed port that a test can restart (losing all it holds)."""

    def __init__(self, state_dir: Path) -> None:
        self.server = KafkaServer(state_dir / f"kafka-{uuid.uuid4().hex[:6]}", find_free_port())
        self.server.prepare()
        self.state_dir = state_dir
        self.process: ServerProcess | None = None

    @property
    def bootstrap_servers(self) -> str:
        return self.server.bootstrap_servers

    def start(self) -> None:
        log = self.server.work_dir / "kafka.log"
        self.process = ServerProcess(self.server.command(), log, self.state_dir, die_with_parent=True)
        self.process.start()
        self.process.wait_ready(60)

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()
            self.process = None


@pytest.fixture
def broker(cp_state_dir: Path) -> Iterator[RestartableBroker]:
    broker = RestartableBroker(cp_state_dir)
    broker.start()
    yield broker
    broker.stop()


@pytest.fixture
async def service_db(database_url: str) -> AsyncIterator[tuple[str, asyncpg.Pool]]:
    schema = f"svc_{uuid.uuid4().hex[:8]}"
    await asyncio.to_thread(upgrade, database_url, schema, MIGRATIONS)
    pool = await create_pool(database_url, schema, register_metrics=False)
    yield schema, pool
    await close_pool(pool)


async def slow_ledger(event: Event, conn: asyncpg.Connection) -> None:
    """Slower than the producer, so records wait unread in the broker when it restarts."""
    await asyncio.sleep(0.01)
    await record_in_ledger(event, conn)


async def produce(pool: asyncpg.Pool, schema: str, symbol: str, count: int, pause: float) -> None:
    for i in range(count):
        async with pool.acquire() as conn, conn.transaction():
            await enqueue(conn, TOPIC, candle_event(symbol, float(i + 1)), schema=schema)
        await asyncio.sleep(pause)


async def ledger_stats(pool: asyncpg.Pool, symbol: str) -> tuple[int, int]:
    row = await pool.fetchrow(
        "SELECT count(*) AS n, count(DISTINCT event_id) AS d FROM ledger WHERE symbol = $1", symbol
    )
    assert row is not None
    return int(row["n"]), int(row["d"])


async def test_broker_restart_mid_stream_loses_nothing_and_applies_nothing_twice(
    broker: RestartableBroker, service_db: tuple[str, asyncpg.Pool]
) -> None:
    schema, pool = service_db
    bootstrap = broker.bootstrap_servers
    symbol = f"L{uuid.uuid4().hex[:6].upper()}"
    await ensure_topics(bootstrap, [TOPIC])
    producer = EventProducer(bootstrap, client_id="loss-producer")
    await producer.start()
    relay = OutboxRelay(
        pool,
        producer,
        schema=schema,
        poll_interval=0.2,
        broker_watch=BrokerWatch(bootstrap, client_id="loss"),
        broker_check_interval=0.5,
        replay_lag_s=60,
        on_broker_loss=lambda: ensure_topics(bootstrap, [TOPIC]),
    )
    consumer = EventConsumer(
        bootstrap_servers=bootstrap,
        group_id=f"loss-{uuid.uuid4().hex[:6]}",
        pool=pool,
        producer=producer,
        subscriptions=[Subscription(TOPIC, type(candle_event("X", 1.0)), slow_ledger)],
        batch_size=20,
        fetch_max_wait_ms=100,
    )
    losses_before = BROKER_LOSSES.labels(schema)._value.get()
    relay.start()
    await consumer.start()
    try:
        await produce(pool, schema, symbol, EVENTS_BEFORE, pause=0.002)
        await eventually(_all_sent(pool), within=30, what="every row relayed before the restart")
        applied, _ = await ledger_stats(pool, symbol)
        assert applied < EVENTS_BEFORE, "the restart must hit records not consumed yet"

        await asyncio.to_thread(broker.stop)
        await asyncio.to_thread(broker.start)
        await produce(pool, schema, symbol, EVENTS_AFTER, pause=0.01)

        total = EVENTS_BEFORE + EVENTS_AFTER
        await eventually(_applied(pool, symbol, total), within=90, what=f"{total} events applied")
        await asyncio.sleep(1.5)  # replayed duplicates still in flight get their chance to double-apply
        applied, distinct = await ledger_stats(pool, symbol)
        assert (applied, distinct) == (total, total)
        handled = {
            r["event_id"] for r in await pool.fetch("SELECT event_id FROM ledger WHERE symbol = $1", symbol)
        }
        assert handled == {r["event_id"] for r in await pool.fetch("SELECT event_id FROM outbox")}
        assert BROKER_LOSSES.labels(schema)._value.get() > losses_before
    finally:
        await consumer.stop()
        await relay.stop()
        await producer.stop()


async def test_an_intact_broker_after_a_batched_pass_is_not_reported_lost(
    kafka_bootstrap_servers: str, service_db: tuple[str, asyncpg.Pool]
) -> None:
    """The false broker loss seen on the shared test broker: one relay pass sends several records
    to one partition in one batch, and the embedded broker answers the latest-offset query with
    that batch's base offset + 1, at or below the highest offset it acknowledged. The watch must
    not take that for a loss (it compares with the pass's lowest offset)."""
    schema, pool = service_db
    bootstrap = kafka_bootstrap_servers
    await ensure_topics(bootstrap, [TOPIC])
    symbol = f"B{uuid.uuid4().hex[:6].upper()}"  # one key: every record on one partition
    producer = EventProducer(bootstrap, client_id="intact-producer")
    await producer.start()
    watch = BrokerWatch(bootstrap, client_id="intact")
    relay = OutboxRelay(pool, producer, schema=schema, broker_watch=watch, broker_check_interval=0)
    try:
        async with pool.acquire() as conn, conn.transaction():
            for i in range(10):
                await enqueue(conn, TOPIC, candle_event(symbol, float(i + 1)), schema=schema)
        assert await relay.relay_once() == 10
        ((tp, highest),) = watch._acked.items()
        ends = await watch._end_offsets()
        # the broker's answer that made the highest-offset rule report a loss
        assert ends[tp] <= highest, f"end {ends[tp]}, highest acknowledged {highest}"
        losses_before = BROKER_LOSSES.labels(schema)._value.get()
        assert not await watch.check()
        await relay._watch_broker_when_due()
        assert BROKER_LOSSES.labels(schema)._value.get() == losses_before
        assert await pool.fetchval("SELECT count(*) FROM outbox WHERE sent_at IS NULL") == 0
    finally:
        await watch.close()
        await producer.stop()


def _all_sent(pool: asyncpg.Pool) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return await pool.fetchval("SELECT count(*) FROM outbox WHERE sent_at IS NULL") == 0

    return check


def _applied(pool: asyncpg.Pool, symbol: str, total: int) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return (await ledger_stats(pool, symbol))[1] >= total

    return check


async def test_replay_since_queues_only_rows_sent_since_then(service_db: tuple[str, asyncpg.Pool]) -> None:
    schema, pool = service_db
    now = datetime.now(UTC)
    async with pool.acquire() as conn, conn.transaction():
        for sent_at in (now - timedelta(hours=3), now - timedelta(minutes=30), now - timedelta(minutes=1)):
            event_id = await enqueue(conn, TOPIC, candle_event("R", 1.0), schema=schema)
            await conn.execute(
                "UPDATE outbox SET sent_at = $2 WHERE event_id = $1", uuid.UUID(event_id), sent_at
            )
    assert await replay_since(pool, now - timedelta(hours=1), schema=schema, topics=["other.topic"]) == 0
    assert await replay_since(pool, now - timedelta(hours=1), schema=schema) == 2
    assert await pool.fetchval("SELECT count(*) FROM outbox WHERE sent_at IS NULL") == 2


async def test_replay_outbox_command(
    service_db: tuple[str, asyncpg.Pool], database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    schema, pool = service_db
    async with pool.acquire() as conn, conn.transaction():
        await enqueue(conn, TOPIC, candle_event("C", 1.0), schema=schema)
        await conn.execute("UPDATE outbox SET sent_at = now() - interval '2 hours'")
    monkeypatch.setenv("DATABASE_URL", database_url)
    spec = ServiceSpec(name="replay-probe", title="probe", schema=schema, migrations_dir=MIGRATIONS)

    async def run(*argv: str) -> int:
        return await asyncio.to_thread(main, spec, ServiceSettings, list(argv))

    assert await run("replay-outbox", "--since", "nonsense") == 2
    assert await run("replay-outbox", "--since", "1h") == 0
    assert await pool.fetchval("SELECT count(*) FROM outbox WHERE sent_at IS NULL") == 0
    assert await run("replay-outbox", "--since", "3h") == 0
    assert await pool.fetchval("SELECT count(*) FROM outbox WHERE sent_at IS NULL") == 1


def test_parse_since() -> None:
    now = datetime(2026, 1, 2, 12, 0, tzinfo=UTC)
    assert parse_since("15m", now=now) == now - timedelta(minutes=15)
    assert parse_since("7d", now=now) == now - timedelta(days=7)
    assert parse_since("2026-01-02T10:00:00Z") == datetime(2026, 1, 2, 10, 0, tzinfo=UTC)
    assert parse_since("2026-01-02T10:00:00") == datetime(2026, 1, 2, 10, 0, tzinfo=UTC)
    with pytest.raises(ValueError, match="duration"):
        parse_since("yesterday")
