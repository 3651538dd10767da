"""The cascade L1 -> L2 -> L3 -> L4 over real gRPC gives L4 the backtest's signals.

The four layer services run in-process on their real gRPC servers, each on its own database
with the same simulated market in its read model and the models of one ``train_cascade`` in
its registry. Each layer gets the previous layer's response ``context`` (what the orchestrator
passes on); on rebalance days L4's signals must be exactly ``cp_models.signals.day_signals`` of
that day on the same market (symbols, sizes, reference prices, targets, stops, expiry), which
needs Layer 3's score of every asset of the day, not only its selection.
"""

from __future__ import annotations

import contextlib
import dataclasses
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC
from typing import Any, cast

import pandas as pd
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from cp_layer_kit.testing import (
    LocalTokens,
    RunningLayer,
    prepare_layer_database,
    run_layer,
    simulated_market,
)
from cp_models.config import CascadeConfig, L2Config, L3Config, L4Config
from cp_models.data import MarketData
from cp_models.datasets import CascadeDatasets, build_datasets, day_inputs
from cp_models.layers.l3_asset import AssetSelectionModel
from cp_models.signals import SignalModels, TradeSignal, day_signals
from cp_models.training import TrainedCascade, train_cascade
from cryptopredict.analysis.v1 import (
    asset_pb2,
    asset_pb2_grpc,
    macro_pb2,
    macro_pb2_grpc,
    sector_pb2,
    sector_pb2_grpc,
    timing_pb2,
    timing_pb2_grpc,
)
from layer1_macro_service import MIGRATIONS_DIR as L1_MIGRATIONS
from layer1_macro_service import SCHEMA as L1_SCHEMA
from layer1_macro_service.app import SPEC as L1_SPEC
from layer1_macro_service.settings import Layer1Settings
from layer2_sector_service import MIGRATIONS_DIR as L2_MIGRATIONS
from layer2_sector_service import SCHEMA as L2_SCHEMA
from layer2_sector_service.app import SPEC as L2_SPEC
from layer2_sector_service.settings import Layer2Settings
from layer3_asset_service import MIGRATIONS_DIR as L3_MIGRATIONS
from layer3_asset_service import SCHEMA as L3_SCHEMA
from layer3_asset_service.app import SPEC as L3_SPEC
from layer3_asset_service.settings import Layer3Settings
from layer4_timing_service import MIGRATIONS_DIR as L4_MIGRATIONS
from layer4_timing_service import SCHEMA as L4_SCHEMA
from layer4_timing_service.app import SPEC as L4_SPEC
from layer4_timing_service.model_adapter import CONFIG
from layer4_timing_service.settings import TimingSettings

from .timing_testing import group_starts_at_the_end

pytestmark = pytest.mark.slow

#: Smaller models with the production structure and book (as the generation tests train).
FAST = dataclasses.replace(
    CascadeConfig(), l2=L2Config(max_iter=40), l3=L3Config(max_iter=40), l4=L4Config(epochs=1, patience=1)
)
#: Two rebalance closes (Sundays) of the simulated market, after the models' training window.
DAYS = (pd.Timestamp("2026-02-15", tz="UTC"), pd.Timestamp("2026-02-22", tz="UTC"))
GROUP = f"l4-cascade-{uuid.uuid4().hex[:8]}"


@dataclasses.dataclass
class Cascade:
    l1: RunningLayer
    l2: RunningLayer
    l3: RunningLayer
    l4: RunningLayer


@pytest.fixture(scope="module")
def market() -> MarketData:
    return simulated_market()


@pytest.fixture(scope="module")
def datasets(market: MarketData) -> CascadeDatasets:
    return build_datasets(market)


@pytest.fixture(scope="module")
def trained(market: MarketData) -> TrainedCascade:
    cascade = train_cascade(build_datasets(market, FAST), None, DAYS[0] - pd.Timedelta(days=28), FAST)
    assert cascade.l4 is not None and cascade.l4.meta_label is not None
    return cascade


def _settings(kind: type[Any], url: str, infra: dict[str, Any], port: int) -> Any:
    return kind(
        environment="test",
        database_url=url,
        grpc_port=port,
        jwks_url="http://jwks.invalid/.well-known/jwks.json",
        layer_model_poll_s=60.0,
        # the read models are filled here; the session's broker carries other tests' candles
        layer_consume_market_events=False,
        **infra,
    )


@pytest.fixture(scope="module")
async def cascade(
    trained: TrainedCascade,
    market: MarketData,
    fresh_database: Callable[..., str],
    redis_url: str,
    kafka_bootstrap_servers: str,
    free_port: Callable[[], int],
) -> AsyncIterator[Cascade]:
    assert trained.l4 is not None
    layers = (
        (L1_SPEC, Layer1Settings, L1_SCHEMA, L1_MIGRATIONS, "macro_regime_v3", trained.l1.to_bytes()),
        (L2_SPEC, Layer2Settings, L2_SCHEMA, L2_MIGRATIONS, "sector_rotation_v2", trained.l2.to_bytes()),
        (L3_SPEC, Layer3Settings, L3_SCHEMA, L3_MIGRATIONS, "asset_tier1_v4", trained.l3.to_bytes()),
        (
            dataclasses.replace(L4_SPEC, consumer_group=GROUP),
            TimingSettings,
            L4_SCHEMA,
            L4_MIGRATIONS,
            "timing_signals_v5",
            trained.l4.to_bytes(),
        ),
    )
    infra = {"redis_url": redis_url, "kafka_bootstrap_servers": kafka_bootstrap_servers}
    await group_starts_at_the_end(kafka_bootstrap_servers, GROUP)
    running: list[RunningLayer] = []
    async with contextlib.AsyncExitStack() as stack:
        for spec, kind, schema, migrations, model, artifact in layers:
            url = fresh_database(schema.replace("_", ""))
            await prepare_layer_database(url, schema, migrations, model, market, artifact)
            settings = _settings(kind, url, infra, free_port())
            running.append(await stack.enter_async_context(run_layer(spec, settings, LocalTokens())))
        yield Cascade(*running)


def _as_of(day: pd.Timestamp) -> Timestamp:
    """The close of ``day``'s bar: the decision day of the whole cascade is ``day``."""
    stamp = Timestamp()
    stamp.FromDatetime((day + pd.Timedelta(days=1)).to_pydatetime())
    return stamp


async def _run(layers: Cascade, day: pd.Timestamp) -> tuple[asset_pb2.SelectAssetsResponse, Any]:
    run_id, as_of = f"cascade-{day.date()}-{uuid.uuid4().hex[:6]}", _as_of(day)
    macro = await macro_pb2_grpc.MacroAnalysisServiceStub(layers.l1.channel).AnalyzeMacro(
        macro_pb2.AnalyzeMacroRequest(as_of=as_of, cascade_run_id=run_id), timeout=60
    )
    sector = await sector_pb2_grpc.SectorAnalysisServiceStub(layers.l2.channel).AnalyzeSectors(
        sector_pb2.AnalyzeSectorsRequest(context=macro.context, as_of=as_of, cascade_run_id=run_id),
        timeout=60,
    )
    asset = await asset_pb2_grpc.AssetSelectionServiceStub(layers.l3.channel).SelectAssets(
        asset_pb2.SelectAssetsRequest(context=sector.context, as_of=as_of, cascade_run_id=run_id), timeout=60
    )
    timing = await timing_pb2_grpc.TimingSignalsServiceStub(layers.l4.channel).GenerateSignals(
        timing_pb2.GenerateSignalsRequest(context=asset.context, as_of=as_of, cascade_run_id=run_id),
        timeout=60,
    )
    return asset, timing


def _key(day: pd.Timestamp, s: TradeSignal) -> tuple[object, ...]:
    return (str(day.date()), s.symbol, s.size, s.reference_price, s.target_price, s.stop_price, s.expires_at)


def _live_key(s: Any) -> tuple[object, ...]:
    decided = pd.Timestamp(s.generated_at.ToDatetime(tzinfo=UTC)) - pd.Timedelta(days=1)
    expires = pd.Timestamp(s.expires_at.ToDatetime(tzinfo=UTC))
    return (
        str(decided.date()),
        s.symbol,
        s.position_size,
        s.entry_price,
        s.target_price,
        s.stop_loss,
        expires,
    )


class _Scores:
    """Given scores in the shape ``SignalModels.l3`` is used in (what L4 would get from a context)."""

    def __init__(self, scores: dict[str, float]) -> None:
        self.scores = scores

    def raw_scores(self, assets: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame({"deep": pd.Series(self.scores, dtype="float64").reindex(assets.index)})


async def test_the_cascade_over_grpc_gives_l4_the_signals_of_day_signals(
    cascade: Cascade, trained: TrainedCascade, datasets: CascadeDatasets
) -> None:
    assert trained.l4 is not None
    models = SignalModels(trained.l3, trained.l4.meta_label)
    for day in DAYS:
        asset, timing = await _run(cascade, day)
        inputs = day_inputs(datasets, day)
        expected = day_signals(models, inputs, CONFIG)
        assert len(expected) >= 3  # a day the book trades several coins
        context = asset.context.active_assets
        # Layer 3 hands down every asset of the day, its selection flagged
        assert {a.symbol for a in context} == set(inputs.assets.index)
        assert [a.symbol for a in context if a.selected] == list(asset.analysis.selected)
        assert len(asset.analysis.selected) < len(context)
        assert sorted(_live_key(s) for s in timing.signals) == sorted(_key(day, s) for s in expected)
        assert {a.symbol for a in timing.assessments} == set(inputs.assets.index)
        # the selection alone (the context before this fix) would have given other signals
        alone = {a.symbol: a.ai_score for a in context if a.selected}
        l3 = cast(AssetSelectionModel, _Scores(alone))
        from_selection = day_signals(SignalModels(l3, trained.l4.meta_label), inputs, CONFIG)
        assert [_key(day, s) for s in from_selection] != [_key(day, s) for s in expected]
