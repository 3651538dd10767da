"""Layer services benchmark: gRPC latency of Layers 1-3 on a 100-asset market, the share of it
spent in model inference, and the ratio to calling the same ``cp_models`` layer in-process.

Each layer service runs in-process on the embedded PostgreSQL, Redis and Kafka (outbox relay
included), its read model filled with a simulated 100-asset market (420 days) and its model
fitted on that market by ``cp_models``. Every measured call carries a new cascade run id, so
it does the whole path: validation, the stored-run lookup, inference on the precomputed
inputs, the insert with its outbox events, the answer. A retried run id (answered from the
store) is measured too. The in-process baseline calls the same model's ``predict`` on the
same precomputed rows, in the same run. Target: each layer's p50 < 25 ms.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

from cp_fleet.embedded import EmbeddedInfra
from cp_layer_kit.inputs import MarketInputs
from cp_layer_kit.layer import LayerKit
from cp_layer_kit.testing import LocalTokens, fit_models, prepare_layer_database, run_layer, wide_market
from cryptopredict.analysis.v1 import (
    asset_pb2,
    asset_pb2_grpc,
    macro_pb2,
    macro_pb2_grpc,
    sector_pb2,
    sector_pb2_grpc,
)
from cryptopredict.common.v1 import analysis_pb2 as common
from layer1_macro_service import MIGRATIONS_DIR as L1_MIGRATIONS
from layer1_macro_service.app import SPEC as L1_SPEC
from layer1_macro_service.settings import Layer1Settings
from layer2_sector_service import MIGRATIONS_DIR as L2_MIGRATIONS
from layer2_sector_service.app import SPEC as L2_SPEC
from layer2_sector_service.settings import Layer2Settings
from layer3_asset_service import MIGRATIONS_DIR as L3_MIGRATIONS
from layer3_asset_service.app import SPEC as L3_SPEC
from layer3_asset_service.settings import Layer3Settings

CALLS = 200
WARMUP = 20
ASSETS = 100


def _percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _fresh_database(url: str, name: str) -> str:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def _in_process(call: Callable[[], Any]) -> list[float]:
    for _ in range(WARMUP):
        call()
    samples = []
    for _ in range(CALLS):
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    return samples


def _baseline(layer: str, kit: LayerKit, symbols: list[str]) -> Callable[[], Any]:
    """The same cp_models call on the same precomputed rows, without the service."""
    model = kit.require_model().model
    inputs: MarketInputs = kit.require_inputs()
    day = inputs.last_day
    if layer == "macro":
        return lambda: model.predict(inputs.market_window(day))
    if layer == "sector":
        macro = {"regime": "bull", "recommended_exposure": 0.7}
        return lambda: model.predict(
            inputs.sector_rows(day), inputs.rotation_rows(day), macro, day.isoformat()
        )
    watchlist = {"tier1": symbols[:10], "tier2": symbols[10:30]}
    return lambda: model.predict(inputs.asset_rows(day), watchlist, symbols, {}, 10, day.isoformat())


def _requests(layer: str, symbols: list[str]) -> Callable[[str], Any]:
    context = common.AnalysisContext(
        regime=common.REGIME_BULL, recommended_exposure=0.7, regime_confidence=0.8
    )
    if layer == "macro":
        return lambda run: macro_pb2.AnalyzeMacroRequest(context=context, cascade_run_id=run, symbols=symbols)
    if layer == "sector":
        return lambda run: sector_pb2.AnalyzeSectorsRequest(
            context=context, cascade_run_id=run, symbols=symbols
        )
    return lambda run: asset_pb2.SelectAssetsRequest(
        context=context,
        cascade_run_id=run,
        symbols=symbols,
        tier1_symbols=symbols[:10],
        tier2_symbols=symbols[10:30],
    )


LAYERS = {
    "macro": (
        L1_SPEC,
        Layer1Settings,
        L1_MIGRATIONS,
        "macro_regime_v3",
        macro_pb2_grpc.MacroAnalysisServiceStub,
        "AnalyzeMacro",
    ),
    "sector": (
        L2_SPEC,
        Layer2Settings,
        L2_MIGRATIONS,
        "sector_rotation_v2",
        sector_pb2_grpc.SectorAnalysisServiceStub,
        "AnalyzeSectors",
    ),
    "asset": (
        L3_SPEC,
        Layer3Settings,
        L3_MIGRATIONS,
        "asset_tier1_v4",
        asset_pb2_grpc.AssetSelectionServiceStub,
        "SelectAssets",
    ),
}


async def _measure_layer(
    layer: str, url: str, redis_url: str, kafka: str, market: Any, artifacts: dict[str, bytes]
) -> dict[str, Any]:
    spec, settings_type, migrations, model_name, stub_type, method = LAYERS[layer]
    await prepare_layer_database(
        url, spec.schema or "", migrations, model_name, market, artifacts[model_name]
    )
    grpc_port = _free_port()
    settings = settings_type(
        environment="test",
        log_level="WARNING",
        database_url=url,
        redis_url=redis_url,
        kafka_bootstrap_servers=kafka,
        grpc_port=grpc_port,
        jwks_url="http://jwks.invalid/.well-known/jwks.json",
        http_port=_free_port(),
        layer_consume_market_events=False,
    )
    if isinstance(settings, Layer1Settings):
        settings = settings.model_copy(update={"layer1_refresh_latest": False})
    symbols = [s for s in market.tradable][:ASSETS]
    async with run_layer(spec, settings, LocalTokens()) as running:
        call = getattr(stub_type(running.channel), method)
        make = _requests(layer, symbols)
        for _ in range(WARMUP):
            await call(make(f"warm-{uuid.uuid4().hex}"))
        latencies, inference = [], []
        for _ in range(CALLS):
            started = time.perf_counter()
            reply = await call(make(f"bench-{uuid.uuid4().hex}"))
            latencies.append(time.perf_counter() - started)
            inference.append(reply.run.inference_ms / 1000)
        retried = make(f"retry-{uuid.uuid4().hex}")
        await call(retried)
        replays = []
        for _ in range(CALLS // 2):
            started = time.perf_counter()
            await call(retried)
            replays.append(time.perf_counter() - started)
        baseline = _in_process(_baseline(layer, running.kit, symbols))
    p50 = statistics.median(latencies)
    base_p50 = statistics.median(baseline)
    return {
        "assets": len(symbols),
        "calls": CALLS,
        "grpc_p50_ms": _ms(p50),
        "grpc_p99_ms": _ms(_percentile(latencies, 0.99)),
        "inference_p50_ms": _ms(statistics.median(inference)),
        "inference_share_of_p50": round(statistics.median(inference) / p50, 3),
        "in_process_p50_ms": _ms(base_p50),
        "in_process_p99_ms": _ms(_percentile(baseline, 0.99)),
        "ratio_grpc_to_in_process_p50": round(p50 / base_p50, 2),
        "replayed_run_p50_ms": _ms(statistics.median(replays)),
        "meets_25ms_p50": p50 < 0.025,
    }


async def _measure(url: str, redis_url: str, kafka: str) -> dict[str, Any]:
    market = wide_market(ASSETS)
    started = time.perf_counter()
    artifacts = await asyncio.to_thread(fit_models, market)
    fit_s = time.perf_counter() - started
    started = time.perf_counter()
    await asyncio.to_thread(MarketInputs.build, market)
    build_s = time.perf_counter() - started
    figures: dict[str, Any] = {
        "market": f"{len(market.symbols)} simulated assets x {len(market.index)} days",
        "fit_models_s": round(fit_s, 2),
        "read_model_inputs_build_ms": _ms(build_s),
    }
    for layer in LAYERS:
        layer_url = _fresh_database(url, f"bench_layers_{layer}_{uuid.uuid4().hex[:6]}")
        figures[layer] = await _measure_layer(layer, layer_url, redis_url, kafka, market, artifacts)
    return figures


def run() -> dict[str, Any]:
    state_dir = Path(tempfile.mkdtemp(prefix="cp-bench-layers-"))
    state_dir.chmod(0o755)
    infra = EmbeddedInfra(state_dir, die_with_parent=True)
    try:
        figures = asyncio.run(
            _measure(infra.database_url(), infra.redis_url(), infra.kafka_bootstrap_servers())
        )
        figures["postgres"] = "external" if os.environ.get("DATABASE_URL") else "embedded (fsync on)"
        return figures
    finally:
        infra.stop()
        shutil.rmtree(state_dir, ignore_errors=True)
