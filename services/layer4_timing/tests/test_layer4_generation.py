"""Signal generation on the running service: market history served by the ingestion service
(files feed, in-process) and read over its gRPC into the layer kit's read model, an L4 model
from the registry, two replicas answering ``GenerateSignals``. A run id yields its signals
once; a window of days gives exactly the signals of ``cp_models``' backtest code on the same
history (symbols, entries, stops, targets, sizes). One set of running services for the module."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Callable
from datetime import UTC
from pathlib import Path
from typing import Any

import grpc
import pandas as pd
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from cp_common.grpc import create_channel
from cp_fleet.embedded import find_free_port
from cp_market.dataset import load_assets, load_candles, load_market_snapshots
from cp_models.cascade import _signal_rows
from cp_models.config import CascadeConfig, L4Config
from cp_models.data import MarketData
from cp_models.datasets import build_datasets, rows_between
from cp_models.layers.l4_timing import TimingModel
from cp_models.registry.store import ModelRegistry
from cp_testing.waiting import eventually
from cryptopredict.analysis.v1 import timing_pb2 as pb
from cryptopredict.analysis.v1 import timing_pb2_grpc as pb_grpc
from cryptopredict.common.v1 import analysis_pb2
from ingestion_service.app import create_app as create_ingestion_app
from ingestion_service.app import runner_of
from ingestion_service.settings import IngestionSettings
from layer4_timing_service import SCHEMA
from layer4_timing_service.settings import TimingSettings

from .timing_testing import RunningTiming, running_timing

pytestmark = pytest.mark.slow

SYMBOLS = ("BTC", "ETH", "BNB", "SOL", "XRP", "ADA", "DOGE", "LINK", "LTC", "AVAX")
DATA_FILES = (
    *[f"daily/binance_spot_2017-2026/{s}USDT_1d.csv" for s in SYMBOLS],
    "sentiment/alternative_me_fng/fear_greed.csv",
    "market/coingecko_global_2018-2025/btc_dominance.csv",
    "market/coingecko_global_2018-2025/stablecoin_supply.csv",
    "market/coingecko_global_2018-2025/total_mcap.csv",
    "metadata/dataset_coins.csv",
)
HISTORY_DAYS = 420
#: A model config that emits often enough for a short window to have signals (same code path).
TEST_L4 = L4Config(epochs=1, min_probability=0.34, min_agreement=0.0)
EXPOSURE = 0.8
WINDOW = pd.date_range("2023-12-16", "2023-12-30", freq="D", tz="UTC")
MODEL = "timing_signals_v5"


@pytest.fixture(scope="module")
def market_copy(data_dir: Path, tmp_path_factory: Any) -> Path:
    copy = tmp_path_factory.mktemp("generation-data")
    for relative in DATA_FILES:
        (copy / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(data_dir / relative, copy / relative)
    return copy


@pytest.fixture(scope="module")
def backtest_data(market_copy: Path) -> MarketData:
    """The history the service holds (the read model's last ``HISTORY_DAYS``), read from files."""
    everything, _ = load_candles(market_copy, symbols=list(SYMBOLS))
    last = pd.Timestamp(everything["open_time"].max())  # the kit keeps the days up to the newest bar
    start = last - pd.Timedelta(days=HISTORY_DAYS - 1)
    candles = everything[everything["open_time"] >= start]
    snapshots = load_market_snapshots(market_copy, start=start, end=last)
    return MarketData.from_frames(candles, snapshots, load_assets(market_copy))


@pytest.fixture(scope="module")
def model(backtest_data: MarketData) -> TimingModel:
    ds = build_datasets(backtest_data)
    end = pd.Timestamp("2023-11-15", tz="UTC")
    return TimingModel.fit(
        ds.store, rows_between(ds.assets, None, end), rows_between(ds.l4_y, None, end), TEST_L4
    )


@pytest.fixture(scope="module")
async def fleet(
    market_copy: Path,
    model: TimingModel,
    fresh_database: Callable[..., str],
    redis_url: str,
    kafka_bootstrap_servers: str,
) -> AsyncIterator[tuple[RunningTiming, RunningTiming]]:
    ingestion_grpc = find_free_port()
    ingestion = IngestionSettings(
        environment="test",
        database_url=fresh_database("ingestion"),
        redis_url=redis_url,
        kafka_bootstrap_servers=kafka_bootstrap_servers,
        grpc_port=ingestion_grpc,
        ingestion_source="files",
        ingestion_data_dir=market_copy,
        ingestion_event_window_hours=0,
    )
    database = fresh_database("layer4")

    def settings() -> TimingSettings:
        return TimingSettings(
            environment="test",
            database_url=database,
            redis_url=redis_url,
            kafka_bootstrap_servers=kafka_bootstrap_servers,
            grpc_port=find_free_port(),
            ingestion_grpc_target=f"127.0.0.1:{ingestion_grpc}",
            layer_market_history_days=HISTORY_DAYS,
            layer_model_poll_s=1.0,
        )

    app = create_ingestion_app(ingestion)
    async with app.router.lifespan_context(app):
        await asyncio.wait_for(runner_of(app.state.runtime).backfilled.wait(), timeout=300)
        async with running_timing(settings()) as first, running_timing(settings()) as second:
            yield first, second


def _stub(replica: RunningTiming) -> tuple[grpc.aio.Channel, pb_grpc.TimingSignalsServiceStub]:
    channel = create_channel(f"127.0.0.1:{replica.settings.grpc_port}", default_timeout=60)
    return channel, pb_grpc.TimingSignalsServiceStub(channel)


def _request(run_id: str, day: pd.Timestamp) -> pb.GenerateSignalsRequest:
    as_of = Timestamp()
    as_of.FromDatetime((day + pd.Timedelta(days=1)).to_pydatetime())
    context = analysis_pb2.AnalysisContext(
        regime=analysis_pb2.REGIME_BULL,
        risk_level=analysis_pb2.RISK_LEVEL_MEDIUM,
        recommended_exposure=EXPOSURE,
        active_assets=[analysis_pb2.AssetScore(symbol=s) for s in SYMBOLS],
    )
    return pb.GenerateSignalsRequest(context=context, as_of=as_of, cascade_run_id=run_id)


async def test_without_a_model_generation_is_refused_then_a_run_is_stored_once(
    fleet: tuple[RunningTiming, RunningTiming], model: TimingModel
) -> None:
    first, second = fleet
    channel, stub = _stub(first)
    try:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await stub.GenerateSignals(_request("run-before-model", WINDOW[-1]))
        assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert refused.value.details() == "Layer 4 model not available"
    finally:
        await channel.close()
    registry = ModelRegistry(first.pool, SCHEMA)
    version = await registry.start_training(MODEL)
    await registry.finish_training(MODEL, version, model.to_bytes())
    await registry.activate(MODEL, version)

    async def loaded() -> bool:
        from cp_layer_kit.layer import kit_of

        return all(kit_of(r.app.state.runtime).model.status == "active" for r in fleet)

    await eventually(loaded, within=60)
    channels = [_stub(first), _stub(second), _stub(first)]
    try:
        answers = await asyncio.gather(
            *[s.GenerateSignals(_request("run-once", WINDOW[-1])) for _, s in channels]
        )
    finally:
        for channel, _ in channels:
            await channel.close()
    assert sorted(a.run.replayed for a in answers) == [False, True, True]
    ids = {tuple(s.signal_id for s in a.signals) for a in answers}
    assert len(ids) == 1 and len(answers[0].signals) > 0
    async with first.pool.acquire() as conn:
        stored = await conn.fetchval("SELECT count(*) FROM signals WHERE cascade_run_id = 'run-once'")
        published = await conn.fetchval(
            "SELECT count(*) FROM outbox WHERE topic = 'signals.v1' AND record_key = ANY($1::bytea[])",
            [s.signal_id.encode() for s in answers[0].signals],
        )
    assert stored == published == len(answers[0].signals)
    signal = answers[0].signals[0]
    assert signal.entry_price > 0 and signal.target_price > 0 and signal.stop_loss > 0
    assert signal.position_size > 0 and signal.time_horizon_hours == 480 and signal.risk_reward_ratio == 1.0
    assert signal.expires_at.ToDatetime() - signal.generated_at.ToDatetime() == pd.Timedelta(hours=480)
    assert signal.model_version == f"{MODEL}:{version}" and signal.cascade_run_id == "run-once"
    assert {v.voter for v in signal.votes} == {"rsi", "macd", "bollinger", "volume", "momentum", "model"}
    assert signal.ai_analysis and signal.market_context["recommended_exposure"] == EXPOSURE
    assert {a.symbol for a in answers[0].assessments} == set(SYMBOLS)


async def test_a_window_of_days_gives_the_backtests_signals(
    fleet: tuple[RunningTiming, RunningTiming], model: TimingModel, backtest_data: MarketData
) -> None:
    first, _ = fleet
    channel, stub = _stub(first)
    live = []
    try:
        for day in WINDOW:
            answer = await stub.GenerateSignals(_request(f"window-{day.date()}", day))
            for s in answer.signals:
                sign = 1.0 if s.signal_type == 1 else -1.0
                live.append(
                    (
                        str(pd.Timestamp(s.generated_at.ToDatetime(tzinfo=UTC)).date()),
                        s.symbol,
                        "long" if sign > 0 else "short",
                        round(s.entry_price, 8),
                        round(sign * (s.target_price - s.entry_price), 8),
                        round(sign * (s.entry_price - s.stop_loss), 8),
                        s.position_size,
                    )
                )
    finally:
        await channel.close()
    ds = build_datasets(backtest_data)
    rows = rows_between(ds.assets, WINDOW[0], WINDOW[-1])
    decisions = model.decide(model.proba(ds.store, rows), rows)
    exposure = pd.Series(EXPOSURE, index=WINDOW)
    planned = _signal_rows(decisions, ds, exposure, CascadeConfig(l4=model.config))
    closes = ds.assets["close"]
    backtest = [
        (
            str((r.date + pd.Timedelta(days=1)).date()),
            r.symbol,
            r.side,
            round(float(closes.loc[(r.date, r.symbol)]), 8),
            round(r.target_dist, 8),
            round(r.stop_dist, 8),
            r.weight,
        )
        for r in planned.itertuples()
    ]
    assert len(backtest) >= 5
    assert [row[:6] for row in sorted(live)] == [row[:6] for row in sorted(backtest)]
    # sizes follow the calibrated probability; the network's float32 sums differ by ~1e-8
    # between a one-day batch (the service) and a whole-window batch (the backtest)
    for got, expected in zip(sorted(live), sorted(backtest), strict=True):
        assert got[6] == pytest.approx(expected[6], abs=1e-6)
