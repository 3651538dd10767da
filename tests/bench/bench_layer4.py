"""L4 timing benchmark: signal generation for 100 candidate assets, and outcome tracking
throughput against 1,000 active signals.

* **Generation**: the service's path for one run (``model_adapter.signals_for_day`` on the
  decision day's design matrices with Layer 3's scores for 100 coins, then storing the signals
  and their ``signals.v1`` events in one transaction, as the kit's ``finalize`` does), p50 / p99
  over repeated runs of one rebalance day, against the baseline measured in the same run:
  ``cp_models.signals.day_signals`` alone (the model's share). The design matrices are built
  once per market change by the kit's read model; that build is reported on its own.
* **Tracking**: 1,000 active signals on 20 symbols (levels out of reach, so every candle
  re-walks every signal of its symbol); daily candles go through the service's
  ``market.candles.v1`` handler (the kit's read-model upsert, then the tracker) one transaction
  per candle, as the consumer runs it. Candles per second, against the kit's read-model handler
  alone.

PostgreSQL is the embedded one (a temporary state dir) unless ``DATABASE_URL`` is set. A
simulated market of 102 coins (the default universe plus generated ones) over 500 days.
"""

from __future__ import annotations

import asyncio
import dataclasses
import shutil
import tempfile
import time
import types
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import psycopg
from psycopg import sql

from cp_common import topics
from cp_common.db.migrations import upgrade
from cp_common.db.pool import close_pool, create_pool
from cp_common.kafka import Subscription
from cp_common.kafka.consumer import Event
from cp_fleet.embedded import EmbeddedInfra
from cp_layer_kit.layer import merge_subscriptions
from cp_layer_kit.market.events import market_subscriptions
from cp_layer_kit.market.store import MarketStore
from cp_market.simulator import DEFAULT_UNIVERSE, MarketSimulator, SimAsset, SimulatorConfig
from cp_models.config import CascadeConfig, L2Config, L3Config
from cp_models.data import MarketData
from cp_models.datasets import build_datasets, day_inputs
from cp_models.signals import SignalModels, day_signals, is_rebalance_day
from cp_models.training import train_cascade
from cryptopredict.common.v1 import market_pb2 as common
from cryptopredict.events.v1 import market_pb2 as market_events
from layer4_timing_service import MIGRATIONS_DIR, SCHEMA, events
from layer4_timing_service.components import build_components
from layer4_timing_service.model_adapter import CONFIG, DayContext, signals_for_day
from layer4_timing_service.settings import TimingSettings
from layer4_timing_service.storage import signals as store

CANDIDATES = 100
GENERATION_RUNS = 40
ACTIVE_SIGNALS = 1000
TRACKED_SYMBOLS = 20
TRACKED_DAYS = 10
FAST = dataclasses.replace(CascadeConfig(), l2=L2Config(max_iter=40), l3=L3Config(max_iter=40))


def _percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def _market() -> MarketData:
    extra = tuple(
        SimAsset(
            f"SIM{i:02d}", f"Sim {i}", ("defi", "gaming", "layer2", "meme")[i % 4], 5.0 + i, 1e8 + 1e6 * i
        )
        for i in range(62)
    )
    sim = MarketSimulator(SimulatorConfig(seed=5, assets=DEFAULT_UNIVERSE + extra)).simulate(
        "1d", periods=500, start="2021-01-01"
    )
    return MarketData.from_frames(sim.candles, sim.snapshots, sim.assets)


def _fresh_database(url: str) -> str:
    name = f"bench_layer4_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    fresh = urlunsplit(urlsplit(url)._replace(path=f"/{name}"))
    upgrade(fresh, SCHEMA, MIGRATIONS_DIR)
    return fresh


async def bench_generation(pool: asyncpg.Pool, data: MarketData) -> dict[str, object]:
    started = time.perf_counter()
    ds = build_datasets(data)
    build_s = time.perf_counter() - started
    trained = train_cascade(build_datasets(data, FAST), None, data.index[-60], FAST, sequence_model=False)
    day = next(t for t in reversed(data.index) if is_rebalance_day(t, CONFIG.book))
    scores = trained.l3.raw_scores(day_inputs(ds, day).assets)["deep"].dropna()
    scores = scores.sort_values(ascending=False).head(CANDIDATES).to_dict()
    timing_model: Any = types.SimpleNamespace(meta_label=trained.meta)
    models = SignalModels(trained.l3, trained.meta, version="bench")
    model_only, service = [], []
    emitted = 0
    day_signals(models, day_inputs(ds, day), CONFIG)  # warm-up (first-call imports and caches)
    for i in range(GENERATION_RUNS):
        t0 = time.perf_counter()
        day_signals(models, day_inputs(ds, day), CONFIG)
        model_only.append(time.perf_counter() - t0)
        ctx = DayContext(f"bench-{i}", "bull", "medium", scores, "timing_signals_v5:1")
        t0 = time.perf_counter()
        result = signals_for_day(timing_model, ds, day, ctx)
        records = [store.with_id(s) for s in result.signals]
        async with pool.acquire() as conn, conn.transaction():
            await store.insert_new(conn, records)
            await events.publish(conn, [events.generated(r) for r in records])
        service.append(time.perf_counter() - t0)
        emitted = len(records)
    return {
        "candidates": len(scores),
        "signals_per_run": emitted,
        "runs": GENERATION_RUNS,
        "service_p50_ms": _ms(_percentile(service, 0.5)),
        "service_p99_ms": _ms(_percentile(service, 0.99)),
        "model_only_p50_ms": _ms(_percentile(model_only, 0.5)),
        "model_only_p99_ms": _ms(_percentile(model_only, 0.99)),
        "service_to_model_p50_ratio": round(_percentile(service, 0.5) / _percentile(model_only, 0.5), 2),
        "inputs_build_per_market_change_ms": _ms(build_s),
    }


def _candle_event(symbol: str, day: datetime, price: float) -> Event:
    candle = common.Candle(
        symbol=symbol,
        interval=common.INTERVAL_1D,
        open=price,
        high=price * 1.01,
        low=price * 0.99,
        close=price,
        volume=1.0,
        source="bench",
    )
    candle.open_time.FromDatetime(day)
    return Event(
        "market.candles.v1",
        0,
        0,
        symbol.encode(),
        str(uuid.uuid4()),
        "cryptopredict.events.v1.CandleClosed",
        market_events.CandleClosed(candle=candle),
        {},
        datetime.now(UTC),
    )


async def _feed(pool: asyncpg.Pool, handler: Any, symbols: list[str], start: datetime) -> float:
    started = time.perf_counter()
    for d in range(TRACKED_DAYS):
        for s in symbols:
            async with pool.acquire() as conn, conn.transaction():
                await handler(_candle_event(s, start + timedelta(days=d), 100.0), conn)
    return time.perf_counter() - started


async def bench_tracking(pool: asyncpg.Pool, settings: TimingSettings) -> dict[str, object]:
    from layer4_timing_service.testing import new_signal

    symbols = [f"TRK{i:02d}" for i in range(TRACKED_SYMBOLS)]
    decision = datetime(2024, 1, 1, tzinfo=UTC)
    # levels no candle of the bench reaches: every signal stays active and is re-walked
    rows = [
        new_signal(
            symbols[i % TRACKED_SYMBOLS],
            "long",
            decision.date(),
            100.0,
            target_distance=900.0,
            stop_distance=99.0,
            horizon=365,
            run_id=f"bench-track-{i}",
            votes=(),
        )
        for i in range(ACTIVE_SIGNALS)
    ]
    async with pool.acquire() as conn, conn.transaction():
        await store.insert_new(conn, rows)
    market = MarketStore(pool, SCHEMA)
    (kit_only,) = [s for s in market_subscriptions(market) if s.topic == topics.MARKET_CANDLES.name]
    tracker = build_components(settings, pool).tracker
    own = Subscription(topics.MARKET_CANDLES.name, topics.MARKET_CANDLES.message_type, tracker.on_candle)
    (service,) = [s for s in merge_subscriptions([kit_only, own]) if s.topic == topics.MARKET_CANDLES.name]
    baseline_symbols = [f"BASE{i:02d}" for i in range(TRACKED_SYMBOLS)]
    kit_s = await _feed(pool, kit_only.handler, baseline_symbols, decision + timedelta(days=1))
    service_s = await _feed(pool, service.handler, symbols, decision + timedelta(days=1))
    still_active = await pool.fetchval(
        "SELECT count(*) FROM signals WHERE status = 'active' AND symbol = ANY($1::text[])", symbols
    )
    n = TRACKED_DAYS * TRACKED_SYMBOLS
    return {
        "active_signals": ACTIVE_SIGNALS,
        "signals_still_active": int(still_active),
        "candles": n,
        "service_candles_per_s": round(n / service_s, 1),
        "read_model_only_candles_per_s": round(n / kit_s, 1),
        "service_to_read_model_time_ratio": round(service_s / kit_s, 2),
        "signal_walks_per_s": round(n * ACTIVE_SIGNALS / TRACKED_SYMBOLS / service_s, 1),
    }


async def _measure(url: str) -> dict[str, object]:
    pool = await create_pool(url, SCHEMA, min_size=1, max_size=4, register_metrics=False)
    try:
        settings = TimingSettings(environment="test", database_url=url)
        return {
            "generation": await bench_generation(pool, _market()),
            "tracking": await bench_tracking(pool, settings),
        }
    finally:
        await close_pool(pool)


def run() -> dict[str, object]:
    import os

    if os.environ.get("DATABASE_URL"):
        return asyncio.run(_measure(_fresh_database(os.environ["DATABASE_URL"])))
    state_dir = Path(tempfile.mkdtemp(prefix="cp-bench-layer4-"))
    state_dir.chmod(0o755)
    infra = EmbeddedInfra(state_dir, die_with_parent=True)
    try:
        return asyncio.run(_measure(_fresh_database(infra.database_url())))
    finally:
        infra.stop()
        shutil.rmtree(state_dir, ignore_errors=True)
