"""Real BTC and ETH history replayed by the ingestion service (replay feed, in-process) through
Kafka to two L4 replicas sharing one consumer group: signals close by target, stop and expiry
with the hand-computed returns, each exactly once, and the live record answers with the figures
of a hand computation. One set of running services for the module."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from cp_fleet.embedded import find_free_port
from cp_testing.waiting import eventually
from cryptopredict.events.v1.signals_pb2 import SignalChanged
from ingestion_service.app import create_app as create_ingestion_app
from ingestion_service.settings import IngestionSettings
from layer4_timing_service.settings import TimingSettings
from layer4_timing_service.storage import signals as store

from .timing_testing import (
    AuthServer,
    RunningTiming,
    bearer,
    consumer_caught_up,
    group_starts_at_the_end,
    long_net,
    new_signal,
    running_timing,
    store_signal,
)

pytestmark = pytest.mark.slow

DATA_FILES = (
    "daily/binance_spot_2017-2026/BTCUSDT_1d.csv",
    "daily/binance_spot_2017-2026/ETHUSDT_1d.csv",
    "sentiment/alternative_me_fng/fear_greed.csv",
)
DECISION = date(2023, 3, 1)
BTC_CLOSE, BTC_ENTRY = 23628.97, 23629.76  # close of 03-01, open of 03-02
ETH_CLOSE, ETH_ENTRY = 1665.22, 1665.23


#: This module's Kafka consumer group (its replicas share it).
GROUP = f"l4-replay-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def replay_data(data_dir: Path, tmp_path_factory: Any) -> Path:
    copy = tmp_path_factory.mktemp("replay-data")
    for relative in DATA_FILES:
        (copy / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(data_dir / relative, copy / relative)
    return copy


@pytest.fixture(scope="module")
async def replicas(
    auth_server: AuthServer, fresh_database: Callable[..., str], redis_url: str, kafka_bootstrap_servers: str
) -> AsyncIterator[tuple[RunningTiming, RunningTiming]]:
    database = fresh_database("layer4")

    def settings() -> TimingSettings:
        return TimingSettings(
            environment="test",
            database_url=database,
            redis_url=redis_url,
            kafka_bootstrap_servers=kafka_bootstrap_servers,
            jwks_url=f"{auth_server.url}/.well-known/jwks.json",
            grpc_port=find_free_port(),
            layer4_clock="market",
        )

    await group_starts_at_the_end(kafka_bootstrap_servers, GROUP)
    async with running_timing(settings(), GROUP) as first, running_timing(settings(), GROUP) as second:
        await consumer_caught_up(kafka_bootstrap_servers, first.pool, GROUP)
        yield first, second


async def _changes(replica: RunningTiming, signal_id: object) -> list[str]:
    async with replica.pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT payload FROM outbox WHERE record_key = $1 ORDER BY id", str(signal_id).encode()
        )
    return [SignalChanged.FromString(r["payload"]).WhichOneof("change") or "" for r in rows]


async def test_replayed_history_closes_each_signal_once_across_two_replicas(
    replicas: tuple[RunningTiming, RunningTiming],
    auth_server: AuthServer,
    replay_data: Path,
    fresh_database: Callable[..., str],
    redis_url: str,
    kafka_bootstrap_servers: str,
) -> None:
    first, second = replicas
    stopped = await store_signal(
        first.pool, new_signal("BTC", "long", DECISION, BTC_CLOSE, target_distance=5000, stop_distance=128.97)
    )
    target = await store_signal(
        first.pool, new_signal("BTC", "long", DECISION, BTC_CLOSE, target_distance=161.03, stop_distance=5000)
    )
    expiring = await store_signal(
        first.pool,
        new_signal("BTC", "long", DECISION, BTC_CLOSE, target_distance=20000, stop_distance=20000, horizon=3),
    )
    # ETH: target 1675.22, reached by 03-02's high 1677.86
    eth = await store_signal(
        first.pool,
        new_signal("ETH", "long", DECISION, ETH_CLOSE, target_distance=10, stop_distance=500, regime="bear"),
    )
    signals = (stopped, target, expiring, eth)
    ingestion = IngestionSettings(
        environment="test",
        database_url=fresh_database("ingestion"),
        redis_url=redis_url,
        kafka_bootstrap_servers=kafka_bootstrap_servers,
        ingestion_source="replay",
        ingestion_data_dir=replay_data,
        ingestion_replay_start="2023-03-02",
        ingestion_replay_speed=86400 * 40,
        ingestion_replay_intervals="1d",
        ingestion_event_window_hours=0,
    )
    app = create_ingestion_app(ingestion)
    async with app.router.lifespan_context(app):

        async def all_closed() -> bool:
            async with first.pool.acquire() as conn:
                rows = [await store.get(conn, s.id) for s in signals]
            return all(r is not None and r.status != "active" for r in rows)

        await eventually(all_closed, within=180)

    async with second.pool.acquire() as conn:
        s1, s2, s3, s4 = [await store.get(conn, s.id) for s in signals]
    assert s1 and s2 and s3 and s4
    # stop on the 03-02 close (23465.32 <= 23500) -> out at the 03-03 open, 23465.32
    assert (s1.status, s1.exit_price, s1.bars_held) == ("stopped_out", 23465.32, 2)
    assert (s2.status, s2.exit_price, s2.bars_held) == ("target_hit", pytest.approx(23790.0), 1)
    assert (s3.status, s3.exit_price, s3.bars_held) == ("expired", 22346.57, 4)
    assert (s4.status, s4.exit_price, s4.bars_held) == ("target_hit", pytest.approx(1675.22), 1)
    returns = [
        long_net(BTC_ENTRY, 23465.32),
        long_net(BTC_ENTRY, 23790.0),
        long_net(BTC_ENTRY, 22346.57),
        long_net(ETH_ENTRY, 1675.22),
    ]
    for record, expected in zip((s1, s2, s3, s4), returns, strict=True):
        assert record.net_return == pytest.approx(expected, abs=1e-12)
    # two replicas, one consumer group: each signal filled once and closed once
    for signal in signals:
        assert await _changes(first, signal.id) == ["updated", "closed"]

    _, token = await auth_server.token()
    async with second.client() as client:
        answer = await client.get("/api/v1/layer4/performance?days=365", headers=bearer(token))
    record = answer.json()["data"]
    wins = [r for r in returns if r > 0]
    losses = [r for r in returns if r <= 0]
    assert (record["signals"], record["wins"]) == (4, 2)
    assert record["win_rate"] == pytest.approx(0.5)
    assert record["average_return"] == pytest.approx(sum(returns) / 4, abs=1e-12)
    assert record["profit_factor"] == pytest.approx(sum(wins) / -sum(losses), abs=1e-12)
    assert record["by_status"] == {"stopped_out": 1, "target_hit": 2, "expired": 1}
    assert record["by_symbol"]["ETH"]["average_return"] == pytest.approx(returns[3], abs=1e-12)
    assert record["by_regime"]["bear"]["signals"] == 1 and record["by_regime"]["bull"]["signals"] == 3
    # macd was against each time (two winners, two losers): right half the time; so was rsi
    assert record["by_voter"]["macd"]["live_accuracy"] == pytest.approx(0.5)
    assert record["by_voter"]["rsi"]["live_weight"] == pytest.approx(0.5)
    assert record["by_voter"]["rsi"]["signals"] == 4  # rsi sided with all four
