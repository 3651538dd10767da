"""Test and benchmark support for layer services: real models, a filled read model, tokens.

* :func:`trained_models`: Layer 1-3 models fitted (by ``cp_models``) on a seeded simulated
  market, as registry artifacts;
* :func:`register_active`: store an artifact in a layer schema's registry and activate it;
* :func:`fill_read_model`: write a ``MarketData`` into a layer's read-model tables (what the
  bootstrap over ingestion's gRPC does in a fleet);
* :class:`LocalTokens`: an Ed25519 key, a ``JwtVerifier`` reading it without HTTP, and access
  tokens for any user.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import math
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg
import grpc
import grpc.aio
import httpx
import jwt
import pandas as pd
from cryptography.hazmat.primitives.asymmetric import ed25519
from fastapi import FastAPI
from jwt.algorithms import OKPAlgorithm

from cp_common.db.migrations import upgrade
from cp_common.db.pool import close_pool, create_pool
from cp_common.security import JwtVerifier
from cp_common.service import ServiceSpec, build_app
from cp_layer_kit.layer import LayerKit, kit_of
from cp_layer_kit.market.store import AssetRow, CandleRow, MarketStore, SnapshotRow
from cp_layer_kit.settings import LayerSettings
from cp_market.simulator import DEFAULT_UNIVERSE, MarketSimulator
from cp_models.config import CascadeConfig
from cp_models.data import MarketData, simulated_market_data
from cp_models.datasets import build_datasets
from cp_models.layers.l1_macro import MacroRegimeModel
from cp_models.layers.l2_sector import SectorRotationModel
from cp_models.layers.l3_asset import AssetSelectionModel
from cp_models.registry.store import ModelRegistry, ensure_registry_schema

ISSUER = "cryptopredict-auth"
AUDIENCE = "cryptopredict"


@functools.cache
def simulated_market(days: int = 420, seed: int = 11) -> MarketData:
    return simulated_market_data(seed=seed, days=days, start="2025-01-01")


def fit_models(data: MarketData, seed: int = 11) -> dict[str, bytes]:
    """Registry name -> artifact of Layers 1-3 fitted by ``cp_models`` on ``data``'s history."""
    ds = build_datasets(data)
    cfg = CascadeConfig()
    l1 = MacroRegimeModel.fit(ds.market, ds.l1_y, cfg.l1, seed)
    l2 = SectorRotationModel.fit(ds.sectors, ds.l2_y, ds.rotation, ds.rotation_y, cfg.l2, seed)
    l3 = AssetSelectionModel.fit(ds.assets, ds.l3_y, cfg.l3, seed)
    return {
        "macro_regime_v3": l1.to_bytes(),
        "sector_rotation_v2": l2.to_bytes(),
        "asset_tier1_v4": l3.to_bytes(),
    }


@functools.cache
def trained_models(days: int = 420, seed: int = 11) -> dict[str, bytes]:
    """Layers 1-3 trained on :func:`simulated_market`."""
    return fit_models(simulated_market(days, seed), seed)


def wide_market(n_assets: int = 100, days: int = 420, seed: int = 11) -> MarketData:
    """A simulated market of ``n_assets``: the simulator's universe plus variants of its
    tradable assets (same sector, other beta and volatility) under new symbols."""
    base = [a for a in DEFAULT_UNIVERSE if a.kind == "crypto"]
    extra = [
        replace(
            asset,
            symbol=f"X{i:02d}{asset.symbol[:3]}",
            name=f"{asset.name} {i}",
            beta=asset.beta * (0.8 + 0.4 * ((i * 7) % 10) / 10),
            idio_vol=asset.idio_vol * (0.8 + 0.5 * ((i * 3) % 10) / 10),
        )
        for i, asset in enumerate(base * 3, start=1)
    ][: max(0, n_assets - len(DEFAULT_UNIVERSE))]
    sim = MarketSimulator(seed=seed, assets=(*DEFAULT_UNIVERSE, *extra)).simulate(
        "1d", periods=days, start="2025-01-01"
    )
    return MarketData.from_frames(sim.candles, sim.snapshots, sim.assets)


async def register_active(pool: asyncpg.Pool, schema: str, name: str, artifact: bytes) -> int:
    registry = ModelRegistry(pool, schema)
    version = await registry.start_training(name)
    await registry.finish_training(name, version, artifact, metrics={"test": 1.0})
    await registry.activate(name, version)
    return version


def _candle_rows(data: MarketData) -> list[CandleRow]:
    rows: list[CandleRow] = []
    for symbol in data.symbols:
        frame = pd.DataFrame(
            {f: getattr(data, f)[symbol] for f in ("open", "high", "low", "close", "volume")}
        )
        frame["quote_volume"] = data.quote_volume[symbol]
        for day, r in frame.dropna(subset=["close"]).iterrows():
            stamp = pd.Timestamp(day).to_pydatetime()
            rows.append((symbol, stamp, r.open, r.high, r.low, r.close, r.volume, r.quote_volume))
    return rows


def _snapshot_rows(data: MarketData) -> list[SnapshotRow]:
    rows = []
    for day, r in data.market.iterrows():
        stamp = pd.Timestamp(day).to_pydatetime()
        rows.append(
            SnapshotRow(
                day=stamp.date(),
                taken_at=stamp + timedelta(days=1),
                total_market_cap=float(r["total_market_cap"]),
                btc_dominance=float(r["btc_dominance"]),
                eth_dominance=math.nan,
                alt_dominance=math.nan,
                stablecoin_dominance=float(r["stablecoin_dominance"]),
                fear_greed=float(r["fear_greed"]),
                market_cap_change_24h=math.nan,
            )
        )
    return rows


async def fill_read_model(store: MarketStore, data: MarketData) -> None:
    assets = [AssetRow(s, data.sector_of(s), s, rank, None) for rank, s in enumerate(data.symbols, start=1)]
    async with store.pool.acquire() as conn, conn.transaction():
        await store.upsert_assets(conn, assets)
        await store.upsert_candles(conn, _candle_rows(data))
        for row in _snapshot_rows(data):
            await store.upsert_snapshot(conn, row)
        await store.notify(conn)


class LocalTokens:
    """Signs access tokens the way the auth service does and verifies them without HTTP."""

    def __init__(self) -> None:
        self._key = ed25519.Ed25519PrivateKey.generate()
        self._kid = f"test-{uuid.uuid4().hex[:6]}"

    def jwks(self) -> dict[str, Any]:
        jwk = json.loads(OKPAlgorithm.to_jwk(self._key.public_key()))
        jwk.update({"kid": self._kid, "alg": "EdDSA", "use": "sig"})
        return {"keys": [jwk]}

    def verifier(self) -> JwtVerifier:
        async def source() -> object:
            return self.jwks()

        return JwtVerifier("http://jwks.invalid", issuer=ISSUER, audience=AUDIENCE, jwks_source=source)

    def token(self, user_id: str | None = None, role: str = "casual") -> str:
        now = int(time.time())
        claims = {
            "sub": user_id or str(uuid.uuid4()),
            "role": role,
            "email": "user@example.com",
            "jti": str(uuid.uuid4()),
            "iat": now,
            "nbf": now,
            "exp": now + 900,
            "iss": ISSUER,
            "aud": AUDIENCE,
            "type": "access",
        }
        return jwt.encode(claims, self._key, algorithm="EdDSA", headers={"kid": self._kid})

    def headers(self, user_id: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(user_id)}"}


@dataclass
class RunningLayer:
    """A layer service running in-process (lifespan, real gRPC port) with an HTTP client."""

    app: FastAPI
    kit: LayerKit
    http: httpx.AsyncClient
    channel: grpc.aio.Channel
    tokens: LocalTokens


@contextlib.asynccontextmanager
async def run_layer(
    spec: ServiceSpec, settings: LayerSettings, tokens: LocalTokens
) -> AsyncIterator[RunningLayer]:
    """Start ``spec`` with ``settings`` (give them ``jwks_url``; tokens come from ``tokens``)."""
    app = build_app(spec, settings)
    async with app.router.lifespan_context(app):
        app.state.jwt_verifier = tokens.verifier()
        kit = kit_of(app.state.runtime)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://layer") as client:
            channel = grpc.aio.insecure_channel(f"127.0.0.1:{settings.grpc_port}")
            try:
                yield RunningLayer(app, kit, client, channel, tokens)
            finally:
                await channel.close()


async def prepare_layer_database(
    url: str,
    schema: str,
    migrations_dir: Path,
    model_name: str | None,
    market: MarketData | None = None,
    artifact: bytes | None = None,
) -> None:
    """Migrate ``schema``, create its registry, fill its read model with ``market`` (default: the
    simulated market) and, unless ``model_name`` is None, register and activate ``artifact``
    (default: that layer's model trained on the simulated market)."""
    await asyncio.to_thread(upgrade, url, schema, migrations_dir)
    await asyncio.to_thread(ensure_registry_schema, url, schema)
    pool = await create_pool(url, schema, register_metrics=False)
    try:
        await fill_read_model(MarketStore(pool, schema), market or simulated_market())
        if model_name is not None:
            await register_active(pool, schema, model_name, artifact or trained_models()[model_name])
    finally:
        await close_pool(pool)


@contextlib.asynccontextmanager
async def in_process_layer(
    spec: ServiceSpec,
    settings_type: type[LayerSettings],
    migrations: tuple[str, Path],
    model_name: str,
    *,
    database_url: str,
    redis_url: str,
    kafka_bootstrap_servers: str,
    grpc_port: int,
) -> AsyncIterator[RunningLayer]:
    """A layer service in-process on real servers: its schema migrated in ``database_url`` (a fresh
    database), the simulated market in the read model, ``model_name`` trained and active, a real
    gRPC port. ``migrations`` is the service's ``(SCHEMA, MIGRATIONS_DIR)``."""
    schema, migrations_dir = migrations
    await prepare_layer_database(database_url, schema, migrations_dir, model_name)
    settings = settings_type(
        environment="test",
        database_url=database_url,
        redis_url=redis_url,
        kafka_bootstrap_servers=kafka_bootstrap_servers,
        grpc_port=grpc_port,
        jwks_url="http://jwks.invalid/.well-known/jwks.json",
        layer_model_poll_s=60.0,
        # the read model is filled here; the session's broker carries other tests' candles
        layer_consume_market_events=False,
    )
    async with run_layer(spec, settings, LocalTokens()) as running:
        yield running
