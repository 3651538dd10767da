"""Helpers for the L4 tests: signals with chosen levels, real daily bars as candle events."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx
import pandas as pd
import uvicorn
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.structs import OffsetAndMetadata
from fastapi import FastAPI
from google.protobuf.timestamp_pb2 import Timestamp

from cp_common import topics
from cp_common.kafka import Subscription
from cp_common.kafka.consumer import Event, Handler
from cp_common.kafka.headers import encode as encode_headers
from cp_common.kafka.headers import new_event_headers
from cp_common.kafka.producer import EventProducer
from cp_common.service import build_app
from cp_layer_kit.layer import merge_subscriptions
from cp_layer_kit.market.events import market_subscriptions
from cp_layer_kit.market.store import MarketStore
from cp_market.dataset import load_candles
from cryptopredict.common.v1 import market_pb2 as common
from cryptopredict.events.v1 import market_pb2 as market_events
from layer4_timing_service import SCHEMA
from layer4_timing_service.app import SPEC
from layer4_timing_service.lifecycle import Tracker
from layer4_timing_service.settings import TimingSettings
from layer4_timing_service.storage import signals as store
from layer4_timing_service.storage.signals import NewSignal, SignalRecord
from layer4_timing_service.testing import VOTES, new_signal  # noqa: F401 - the tests import them from here

FEE, SLIPPAGE = 0.001, 0.0005


def daily_bars(data_dir: Path, symbol: str, start: str, end: str) -> pd.DataFrame:
    frame, _ = load_candles(data_dir, symbols=symbol, start=start, end=end)
    return frame.sort_values("open_time").reset_index(drop=True)


async def store_signal(pool: asyncpg.Pool, signal: NewSignal) -> SignalRecord:
    async with pool.acquire() as conn, conn.transaction():
        (stored,) = await store.insert_new(conn, [signal])
    return stored


def candle_event(row: pd.Series, interval: int = common.INTERVAL_1D) -> Event:
    stamp = Timestamp()
    stamp.FromDatetime(pd.Timestamp(row["open_time"]).to_pydatetime())
    candle = common.Candle(
        symbol=row["symbol"],
        interval=interval,  # type: ignore[arg-type]
        open_time=stamp,
        open=float(row["open"]),
        high=float(row["high"]),
        low=float(row["low"]),
        close=float(row["close"]),
        volume=float(row["volume"]),
        source="test",
    )
    return Event(
        topic="market.candles.v1",
        partition=0,
        offset=0,
        key=row["symbol"].encode(),
        event_id=str(uuid.uuid4()),
        event_type="cryptopredict.events.v1.CandleClosed",
        message=market_events.CandleClosed(candle=candle),
        headers={},
        timestamp=datetime.now(UTC),
    )


def candle_handler(pool: asyncpg.Pool, tracker: Tracker) -> Handler:
    """The service's ``market.candles.v1`` handler: the kit's read-model update, then the tracker."""
    kit = [
        s for s in market_subscriptions(MarketStore(pool, SCHEMA)) if s.topic == topics.MARKET_CANDLES.name
    ]
    own = Subscription(topics.MARKET_CANDLES.name, topics.MARKET_CANDLES.message_type, tracker.on_candle)
    (merged,) = [s for s in merge_subscriptions([*kit, own]) if s.topic == topics.MARKET_CANDLES.name]
    return merged.handler


async def feed(pool: asyncpg.Pool, tracker: Tracker, bars: pd.DataFrame) -> None:
    """Hand each bar to the service's candle handler in its own transaction, as the consumer does."""
    handler = candle_handler(pool, tracker)
    for _, row in bars.iterrows():
        async with pool.acquire() as conn, conn.transaction():
            await handler(candle_event(row), conn)


def long_net(entry: float, exit_: float) -> float:
    """Hand computation: buy at entry + slippage + fee, sell at exit - slippage - fee."""
    return (exit_ * (1 - SLIPPAGE) * (1 - FEE)) / (entry * (1 + SLIPPAGE) * (1 + FEE)) - 1


def short_net(entry: float, exit_: float) -> float:
    sell = entry * (1 - SLIPPAGE) * (1 - FEE)
    buy = exit_ * (1 + SLIPPAGE) * (1 + FEE)
    return (sell - buy) / sell


# --- the service in-process, with the real auth service serving tokens and JWKS ----------------

PASSWORD = "Timing-Tests-2024!"
FAST_ARGON2 = {"auth_argon2_time_cost": 1, "auth_argon2_memory_kib": 8192, "auth_argon2_parallelism": 1}


@dataclass
class AuthServer:
    """The auth service under uvicorn on a free local port (its JWKS is what L4 verifies with)."""

    url: str

    async def token(self, email: str | None = None) -> tuple[str, str]:
        """A new user's (user id, access token)."""
        email = email or f"l4-{uuid.uuid4().hex[:10]}@example.com"
        async with httpx.AsyncClient(base_url=self.url, timeout=30) as client:
            created = await client.post("/api/v1/auth/register", json={"email": email, "password": PASSWORD})
            assert created.status_code == 201, created.text
            login = await client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
            assert login.status_code == 200, login.text
        return created.json()["data"]["id"], login.json()["data"]["access_token"]


@contextlib.asynccontextmanager
async def serving(app: FastAPI, port: int) -> AsyncIterator[str]:
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="on"))
    task = asyncio.create_task(server.serve())
    for _ in range(600):
        if server.started or task.done():
            break
        await asyncio.sleep(0.05)
    if not server.started:
        task.cancel()
        raise RuntimeError("server did not start")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@dataclass
class RunningTiming:
    app: FastAPI
    settings: TimingSettings
    group: str

    @property
    def pool(self) -> asyncpg.Pool:
        return self.app.state.runtime.require_pool()

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url="http://layer4.test")


@contextlib.asynccontextmanager
async def running_timing(settings: TimingSettings, group: str) -> AsyncIterator[RunningTiming]:
    """The service in-process. ``group``: its Kafka consumer group, one per test module (the
    replicas of a module share it), so a module never waits for a group that an earlier
    module's apps just left to rebalance."""
    app = build_app(dataclasses.replace(SPEC, consumer_group=group), settings)
    async with app.router.lifespan_context(app):
        yield RunningTiming(app, settings, group)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def publish_candles(bootstrap: str, bars: pd.DataFrame) -> None:
    """Daily candles onto ``market.candles.v1`` as ingestion publishes them."""
    producer = EventProducer(bootstrap, client_id="l4-tests")
    await producer.start()
    try:
        for _, row in bars.iterrows():
            await producer.publish(topics.MARKET_CANDLES.name, candle_event(row).message)
    finally:
        await producer.stop()


async def group_starts_at_the_end(bootstrap: str, group: str) -> None:
    """Commit ``group``'s offsets at the current end of ``market.candles.v1``, so the module's
    service only sees candles published from now on (the broker is shared by the whole test
    session; other modules' markets must not reach this module's read model)."""
    topic = topics.MARKET_CANDLES.name
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        if topic not in await consumer.topics():  # fetches every topic's metadata
            return  # nothing published yet: there is nothing to skip
        partitions = consumer.partitions_for_topic(topic) or set()
        assigned = [TopicPartition(topic, p) for p in sorted(partitions)]
        consumer.assign(assigned)
        ends = await consumer.end_offsets(assigned)
        await consumer.commit({tp: OffsetAndMetadata(offset, "") for tp, offset in ends.items()})
    finally:
        await consumer.stop()


async def consumer_caught_up(bootstrap: str, pool: asyncpg.Pool, group: str) -> None:
    """Wait until ``group`` has handled everything on ``market.candles.v1`` so far: one marker
    record per partition (an hourly candle, which the tracker ignores) must reach
    ``processed_events``; each partition is handled in order, so the backlog before it is done."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        topic = topics.MARKET_CANDLES.name
        partitions = await producer.partitions_for(topic)
        marker = pd.Series(
            {
                "symbol": "L4MARK",
                "open_time": datetime(2000, 1, 1, tzinfo=UTC),
                "open": 1.0,
                "high": 1.0,
                "low": 1.0,
                "close": 1.0,
                "volume": 0.0,
            }
        )
        ids = []
        for partition in sorted(partitions):
            message = candle_event(marker, interval=common.INTERVAL_1H).message
            headers = new_event_headers(message.DESCRIPTOR.full_name)
            ids.append(uuid.UUID(headers["event-id"]))
            await producer.send_and_wait(
                topic,
                message.SerializeToString(),
                key=b"L4MARK",
                partition=partition,
                headers=encode_headers(headers),
            )
    finally:
        await producer.stop()
    for _ in range(1200):
        done = await pool.fetchval(
            "SELECT count(*) FROM processed_events WHERE consumer_group = $1 AND event_id = ANY($2::uuid[])",
            group,
            ids,
        )
        if done == len(ids):
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the L4 consumer did not catch up with market.candles.v1")
