"""The whole service in-process on real PostgreSQL, Redis and Kafka, fed by the simulator:
REST under /api/v1/market, gRPC MarketDataService, events on Kafka."""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import httpx
import pytest
from aiokafka import AIOKafkaConsumer
from google.protobuf.timestamp_pb2 import Timestamp
from ingestion_testing import eventually

from cp_common import topics
from cp_common.kafka import headers as h
from cryptopredict.common.v1 import market_pb2 as common
from cryptopredict.market.v1 import market_data_pb2 as pb
from cryptopredict.market.v1 import market_data_pb2_grpc as pb_grpc
from ingestion_service.app import create_app, runner_of
from ingestion_service.read_cache import CandleReadCache
from ingestion_service.settings import IngestionSettings

HISTORY_DAYS = 40


@pytest.fixture(scope="module")
async def service(
    migrated_database: Callable[[], str],
    redis_url: str,
    kafka_bootstrap_servers: str,
    free_port,
    tmp_path_factory,
) -> AsyncIterator[dict[str, Any]]:
    grpc_port = free_port()
    settings = IngestionSettings(
        environment="test",
        database_url=migrated_database(),
        redis_url=redis_url,
        kafka_bootstrap_servers=kafka_bootstrap_servers,
        grpc_port=grpc_port,
        CP_STATE_DIR=tmp_path_factory.mktemp("ingestion-state"),
        ingestion_history_days=HISTORY_DAYS,
        ingestion_intraday_days=3,
        # one simulated hour every 0.5 s; a short event window. The session's broker is shared
        # with other tests' consumers, so this module publishes only about a thousand events.
        ingestion_synthetic_speed=3600 * 2,
        ingestion_event_window_hours=2,
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with (
            httpx.AsyncClient(transport=transport, base_url="http://ingestion") as client,
            grpc.aio.insecure_channel(f"127.0.0.1:{grpc_port}") as channel,
        ):
            yield {
                "app": app,
                "client": client,
                "stub": pb_grpc.MarketDataServiceStub(channel),
                "runtime": app.state.runtime,
            }


def _runner(service: dict[str, Any]):  # type: ignore[no-untyped-def]
    return runner_of(service["runtime"])


async def test_start_up_waits_for_the_synthetic_history(service: dict[str, Any]) -> None:
    runner = _runner(service)
    assert runner.backfilled.is_set()
    stored = runner.last_backfill.summary()["candles_stored_by_interval"]
    assert stored["1d"]["inserted"] == 42 * HISTORY_DAYS
    assert stored["1h"]["inserted"] == 42 * 24 * 3 and stored["4h"]["inserted"] == 42 * 6 * 3
    ready = await service["client"].get("/readyz")
    assert ready.status_code == 200


async def test_assets_and_sectors(service: dict[str, Any]) -> None:
    client = service["client"]
    body = (await client.get("/api/v1/market/assets", params={"limit": 5})).json()
    assert body["success"] is True and body["data"]["count"] == 5
    ranks = [a["market_cap_rank"] for a in body["data"]["assets"]]
    assert ranks == [1, 2, 3, 4, 5]
    top = body["data"]["assets"][0]
    assert top["symbol"] == "BTC" and top["quote"]["price"] > 0 and top["sector"] == "layer1"
    defi = (await client.get("/api/v1/market/assets", params={"sector": "defi"})).json()["data"]
    assert {a["sector"] for a in defi["assets"]} == {"defi"} and defi["count"] >= 4
    sectors = (await client.get("/api/v1/market/sectors")).json()["data"]["sectors"]
    by_key = {s["sector"]: s for s in sectors}
    assert len(sectors) == 19 and by_key["defi"]["name"] == "DeFi" and "UNI" in by_key["defi"]["symbols"]
    detail = (await client.get("/api/v1/market/assets/eth")).json()["data"]
    assert detail["symbol"] == "ETH" and {c["interval"] for c in detail["coverage"]} == {"1h", "4h", "1d"}


async def test_candles_for_a_symbol(service: dict[str, Any]) -> None:
    client = service["client"]
    body = (await client.get("/api/v1/market/candles/BTC", params={"interval": "1d", "limit": 10})).json()
    data = body["data"]
    assert data["symbol"] == "BTC" and data["count"] == 10 and data["truncated"] is True
    times = [c["open_time"] for c in data["candles"]]
    assert times == sorted(times)
    first = data["candles"][0]
    assert first["low"] <= min(first["open"], first["close"]) and first["source"] == "synthetic"
    start = datetime.fromisoformat(times[0])
    ranged = (
        await client.get(
            "/api/v1/market/candles/btc",
            params={
                "interval": "1d",
                "start": start.isoformat(),
                "end": (start + timedelta(days=2)).isoformat(),
            },
        )
    ).json()["data"]
    assert [c["open_time"] for c in ranged["candles"]] == times[:3] and ranged["truncated"] is False


@pytest.mark.parametrize(
    ("path", "query", "status", "message"),
    [
        ("/api/v1/market/candles/BTC", {"interval": "5m"}, 400, "interval must be one of 1h, 4h, 1d"),
        ("/api/v1/market/candles/BT-C", {}, 400, "symbol must be 1 to 20 letters or digits"),
        ("/api/v1/market/candles/NOPE", {}, 404, "Symbol NOPE not found"),
        ("/api/v1/market/candles/BTC", {"start": "2024-01-01", "end": "2025-06-01"}, 400, "365 days"),
        ("/api/v1/market/candles/BTC", {"start": "2024-02-01", "end": "2024-01-01"}, 400, "not be after"),
        ("/api/v1/market/candles/BTC", {"start": "yesterday-ish"}, 400, "ISO 8601"),
        ("/api/v1/market/candles/BTC", {"limit": 0}, 400, "limit must be between 1 and 1000"),
        ("/api/v1/market/assets", {"sector": "casinos"}, 400, "unknown sector"),
        ("/api/v1/market/assets/ZZZ", {}, 404, "Symbol ZZZ not found"),
    ],
)
async def test_bad_requests_get_clear_errors_in_the_envelope(
    service: dict[str, Any], path: str, query: dict[str, object], status: int, message: str
) -> None:
    response = await service["client"].get(path, params=query)
    body = response.json()
    assert response.status_code == status, body
    assert body["success"] is False and body["error_code"] == status and message in body["error"]


async def test_overview_and_snapshot_history(service: dict[str, Any]) -> None:
    client = service["client"]
    data = (await client.get("/api/v1/market/overview")).json()["data"]
    assert data["total_market_cap"] > 0 and 0 < data["btc_dominance"] < 100
    assert 0 < data["eth_dominance"] < data["btc_dominance"] and data["stablecoin_dominance"] > 0
    assert 0 <= data["fear_greed"]["value"] <= 100 and data["fear_greed"]["label"]
    assert data["market_cap_change_24h_pct"] is not None and len(data["top_assets"]) == 10
    history = (await client.get("/api/v1/market/snapshots")).json()["data"]
    assert history["count"] >= 30
    taken = [s["taken_at"] for s in history["snapshots"]]
    assert taken == sorted(taken) and datetime.fromisoformat(taken[-1]).hour == 0


async def test_grpc_batched_candles(service: dict[str, Any]) -> None:
    stub = service["stub"]
    reply = await stub.GetCandles(
        pb.GetCandlesRequest(symbols=["ETH", "BTC", "NOPE"], interval=common.INTERVAL_1H, lookback=24),
        timeout=5,
    )
    assert [s.symbol for s in reply.series] == ["ETH", "BTC"] and list(reply.missing_symbols) == ["NOPE"]
    btc = reply.series[1].candles
    assert len(btc) == 24 and btc[0].interval == common.INTERVAL_1H
    opens = [c.open_time.ToDatetime() for c in btc]
    assert opens == sorted(opens) and opens[1] - opens[0] == timedelta(hours=1)
    end = Timestamp()
    end.FromDatetime(btc[5].open_time.ToDatetime())
    capped = await stub.GetCandles(
        pb.GetCandlesRequest(symbols=["BTC"], interval=common.INTERVAL_1H, lookback=3, end_time=end),
        timeout=5,
    )
    assert [c.close for c in capped.series[0].candles] == [c.close for c in btc[3:6]]
    with pytest.raises(grpc.aio.AioRpcError) as bad:
        await stub.GetCandles(pb.GetCandlesRequest(symbols=["BTC"], interval=0, lookback=3), timeout=5)
    assert bad.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_grpc_snapshots_and_universe(service: dict[str, Any]) -> None:
    stub = service["stub"]
    latest = (await stub.GetLatestSnapshot(pb.GetLatestSnapshotRequest(top_assets=5), timeout=5)).snapshot
    assert latest.total_market_cap_usd > 0 and len(latest.assets) == 5
    assert latest.assets[0].symbol == "BTC" and latest.assets[0].price_usd > 0
    assert math.isnan(latest.funding_rate)  # unknown figures are NaN, not a misleading 0
    history = await stub.ListSnapshots(pb.ListSnapshotsRequest(), timeout=5)
    assert len(history.snapshots) >= 30
    universe = await stub.GetUniverse(pb.GetUniverseRequest(top_n=3), timeout=5)
    assert [a.market_cap_rank for a in universe.assets] == [1, 2, 3] and len(universe.sectors) == 19
    memes = await stub.GetUniverse(pb.GetUniverseRequest(sector="meme"), timeout=5)
    assert {a.sector for a in memes.assets} == {"meme"} and {a.symbol for a in memes.assets} >= {"DOGE"}


async def test_the_accelerated_market_publishes_closed_candles_to_kafka(
    service: dict[str, Any], kafka_bootstrap_servers: str, unique_name
) -> None:
    pool = service["runtime"].pool
    consumer = AIOKafkaConsumer(
        topics.MARKET_CANDLES.name,
        bootstrap_servers=kafka_bootstrap_servers,
        group_id=unique_name("ingestion-test"),
        auto_offset_reset="latest",
    )
    await consumer.start()
    try:
        await eventually(lambda: _assigned(consumer), timeout=30, what="partition assignment")
        before = await pool.fetchval("SELECT max(open_time) FROM candles WHERE interval = '1h'")
        received: list[Any] = []
        deadline = asyncio.get_running_loop().time() + 30
        while len(received) < 84 and asyncio.get_running_loop().time() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                received.extend(records)
    finally:
        await consumer.stop()
    assert len(received) >= 84, "two simulated hours of 42 assets"
    record = received[0]
    headers = h.decode(record.headers)
    assert headers[h.EVENT_TYPE] == "cryptopredict.events.v1.CandleClosed"
    event = topics.decode(topics.MARKET_CANDLES.name, record.value)
    assert record.key == event.candle.symbol.encode()
    assert event.candle.source == "synthetic" and event.candle.close > 0
    opened = event.candle.open_time.ToDatetime(tzinfo=UTC)
    assert opened >= before - timedelta(hours=2)
    # every event is for a closed candle: its close is not after the newest stored hour's close
    newest = await pool.fetchval("SELECT max(open_time) FROM candles WHERE interval = '1h'")
    assert opened <= newest


async def _assigned(consumer: AIOKafkaConsumer) -> bool:
    with contextlib.suppress(Exception):
        await consumer.getmany(timeout_ms=100)
    return bool(consumer.assignment())


async def test_reads_need_a_token_when_not_public(
    migrated_database: Callable[[], str], kafka_bootstrap_servers: str, redis_url: str, tmp_path_factory
) -> None:
    settings = IngestionSettings(
        environment="test",
        database_url=migrated_database(),
        kafka_bootstrap_servers=kafka_bootstrap_servers,
        redis_url=redis_url,
        ingestion_public_reads=False,
        jwks_url="http://127.0.0.1:9/.well-known/jwks.json",
        ingestion_source="files",
        ingestion_data_dir=tmp_path_factory.mktemp("no-data"),
        CP_STATE_DIR=tmp_path_factory.mktemp("state"),
    )
    app = create_app(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client,
    ):
        anonymous = await client.get("/api/v1/market/assets")
        forged = await client.get("/api/v1/market/candles/BTC", headers={"Authorization": "Bearer not-a-jwt"})
    assert anonymous.status_code == 401 and anonymous.json()["error"] == "missing bearer token"
    assert forged.status_code == 401 and forged.json()["success"] is False


def test_public_reads_default_by_environment() -> None:
    assert IngestionSettings(environment="local").reads_are_public
    production = IngestionSettings(environment="production", jwks_url="http://auth/.well-known/jwks.json")
    assert not production.reads_are_public
    with pytest.raises(ValueError, match="JWKS_URL is required"):
        IngestionSettings(environment="production")


async def test_cached_candle_reads_are_dropped_when_candles_are_stored(service: dict[str, Any]) -> None:
    client, pool = service["client"], service["runtime"].pool
    query = {"interval": "1h", "limit": 3}

    async def latest_served() -> datetime:
        body = (await client.get("/api/v1/market/candles/BTC", params=query)).json()
        return datetime.fromisoformat(body["data"]["candles"][-1]["open_time"])

    first = await latest_served()

    async def stored_after(moment: datetime) -> bool:
        newest = await pool.fetchval(
            "SELECT max(open_time) FROM candles WHERE symbol = 'BTC' AND interval = '1h'"
        )
        return newest > moment

    await eventually(lambda: stored_after(first), timeout=30, what="a new BTC candle")
    stored = await pool.fetchval(
        "SELECT max(open_time) FROM candles WHERE symbol = 'BTC' AND interval = '1h'"
    )
    # Right after the commit (well within the cache's TTL), the answer already has the new candle.
    assert await latest_served() >= stored


def test_the_candle_cache_keeps_nothing_built_across_an_invalidation() -> None:
    cache = CandleReadCache(ttl_s=60)
    version = cache.version
    cache.invalidate()
    cache.put("k", b"{}", version)
    assert cache.get("k") is None
    cache.put("k", b"{}", cache.version)
    assert cache.get("k") == b"{}"
    cache.invalidate()
    assert cache.get("k") is None
    short = CandleReadCache(ttl_s=0.0)
    short.put("k", b"{}", short.version)
    assert short.get("k") is None
