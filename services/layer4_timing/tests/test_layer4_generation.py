"""Signal generation on the running service: market history served by the ingestion service
(files feed, in-process) and read over its gRPC into the layer kit's read model, an L4 model
from the registry, two replicas answering ``GenerateSignals``. A run id yields its signals
once; a window of days gives exactly the signals of ``cp_models``' backtest code on the same
history (symbols, entries, stops, targets, sizes). One set of running services for the module."""

from __future__ import annotations

import asyncio
import dataclasses
import shutil
import uuid
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
from cp_layer_kit.layer import kit_of
from cp_market.dataset import load_assets, load_candles, load_market_snapshots
from cp_models.config import CascadeConfig, L2Config, L3Config, L4Config
from cp_models.data import MarketData
from cp_models.datasets import build_datasets, day_inputs
from cp_models.registry.store import ModelRegistry
from cp_models.signals import SignalModels, day_signals, is_rebalance_day
from cp_models.training import TrainedCascade, train_cascade
from cp_testing.waiting import eventually
from cryptopredict.analysis.v1 import timing_pb2 as pb
from cryptopredict.analysis.v1 import timing_pb2_grpc as pb_grpc
from cryptopredict.common.v1 import analysis_pb2
from ingestion_service.app import create_app as create_ingestion_app
from ingestion_service.app import runner_of
from ingestion_service.settings import IngestionSettings
from layer4_timing_service import SCHEMA
from layer4_timing_service.model_adapter import CONFIG
from layer4_timing_service.settings import TimingSettings

from .timing_testing import RunningTiming, group_starts_at_the_end, running_timing

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
#: Smaller models, the production structure and the production book (as cp_models' tests do).
FAST = dataclasses.replace(
    CascadeConfig(), l2=L2Config(max_iter=40), l3=L3Config(max_iter=40), l4=L4Config(epochs=1, patience=1)
)
WINDOW = pd.date_range("2023-10-29", "2023-12-30", freq="D", tz="UTC")
REBALANCE_DAY = pd.Timestamp("2023-12-24", tz="UTC")  # a Sunday: the book decides at its close
MODEL = "timing_signals_v5"


#: This module's Kafka consumer group (its replicas share it).
GROUP = f"l4-generation-{uuid.uuid4().hex[:8]}"


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
def trained(backtest_data: MarketData) -> TrainedCascade:
    ds = build_datasets(backtest_data, FAST)
    return train_cascade(ds, None, WINDOW[0], FAST)


@pytest.fixture(scope="module")
def backtest_datasets(backtest_data: MarketData) -> Any:
    return build_datasets(backtest_data)


@pytest.fixture(scope="module")
async def fleet(
    market_copy: Path,
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
        await group_starts_at_the_end(kafka_bootstrap_servers, GROUP)
        async with running_timing(settings(), GROUP) as first, running_timing(settings(), GROUP) as second:
            yield first, second


def _stub(replica: RunningTiming) -> tuple[grpc.aio.Channel, pb_grpc.TimingSignalsServiceStub]:
    channel = create_channel(f"127.0.0.1:{replica.settings.grpc_port}", default_timeout=60)
    return channel, pb_grpc.TimingSignalsServiceStub(channel)


def l3_scores(trained: TrainedCascade, ds: Any, day: pd.Timestamp) -> dict[str, float]:
    """Layer 3's scores of the day, as the cascade hands them to L4."""
    assets = day_inputs(ds, day).assets
    return trained.l3.raw_scores(assets)["deep"].dropna().to_dict()


def _request(run_id: str, day: pd.Timestamp, scores: dict[str, float]) -> pb.GenerateSignalsRequest:
    as_of = Timestamp()
    as_of.FromDatetime((day + pd.Timedelta(days=1)).to_pydatetime())
    context = analysis_pb2.AnalysisContext(
        regime=analysis_pb2.REGIME_BULL,
        risk_level=analysis_pb2.RISK_LEVEL_MEDIUM,
        active_assets=[analysis_pb2.AssetScore(symbol=s, ai_score=v) for s, v in scores.items()],
    )
    return pb.GenerateSignalsRequest(context=context, as_of=as_of, cascade_run_id=run_id)


async def test_without_a_model_generation_is_refused_then_a_run_is_stored_once(
    fleet: tuple[RunningTiming, RunningTiming], trained: TrainedCascade, backtest_datasets: Any
) -> None:
    first, second = fleet
    scores = l3_scores(trained, backtest_datasets, REBALANCE_DAY)
    channel, stub = _stub(first)
    try:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await stub.GenerateSignals(_request("run-before-model", REBALANCE_DAY, scores))
        assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert refused.value.details() == "Layer 4 model not available"
    finally:
        await channel.close()
    assert trained.l4 is not None and trained.l4.meta_label is not None
    registry = ModelRegistry(first.pool, SCHEMA)
    version = await registry.start_training(MODEL)
    await registry.finish_training(MODEL, version, trained.l4.to_bytes())
    await registry.activate(MODEL, version)

    async def loaded() -> bool:
        return all(kit_of(r.app.state.runtime).model.status == "active" for r in fleet)

    await eventually(loaded, within=60, what="both replicas load the activated model")
    channels = [_stub(first), _stub(second), _stub(first)]
    try:
        answers = await asyncio.gather(
            *[s.GenerateSignals(_request("run-once", REBALANCE_DAY, scores)) for _, s in channels]
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
    assert signal.entry_price > 0 and signal.target_price > signal.entry_price > signal.stop_loss > 0
    assert 0 < signal.position_size <= 1 and signal.time_horizon_hours == 7 * 24
    assert signal.expires_at.ToDatetime() - signal.generated_at.ToDatetime() == pd.Timedelta(days=7)
    assert signal.model_version == f"{MODEL}:{version}" and signal.cascade_run_id == "run-once"
    assert {v.voter for v in signal.votes} >= {"market_trend", "asset_trend"}
    assert all(v.weight > 0 for v in signal.votes) and signal.ai_analysis
    assert "display" in signal.market_context
    assert {a.symbol for a in answers[0].assessments} >= set(scores)


async def test_a_window_of_days_gives_the_backtests_signals(
    fleet: tuple[RunningTiming, RunningTiming], trained: TrainedCascade, backtest_datasets: Any
) -> None:
    first, _ = fleet
    channel, stub = _stub(first)
    live = []
    try:
        for day in WINDOW:
            scores = l3_scores(trained, backtest_datasets, day)
            answer = await stub.GenerateSignals(_request(f"window-{day.date()}", day, scores))
            if not is_rebalance_day(day, CONFIG.book):
                assert not answer.signals
            for s in answer.signals:
                decided = pd.Timestamp(s.generated_at.ToDatetime(tzinfo=UTC)) - pd.Timedelta(days=1)
                live.append(
                    (
                        str(decided.date()),
                        s.symbol,
                        s.position_size,
                        s.entry_price,
                        s.target_price,
                        s.stop_loss,
                    )
                )
    finally:
        await channel.close()
    assert trained.l4 is not None
    models = SignalModels(trained.l3, trained.l4.meta_label, version="")
    backtest = [
        (str(day.date()), s.symbol, s.size, s.reference_price, s.target_price, s.stop_price)
        for day in WINDOW
        for s in day_signals(models, day_inputs(backtest_datasets, day), CONFIG)
    ]
    assert len({row[0] for row in backtest}) >= 5  # signals on at least five rebalance days
    assert sorted(live) == sorted(backtest)
