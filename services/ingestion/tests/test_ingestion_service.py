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
import pytest
from aiokafka import AIOKafkaConsumer
from google.protobuf.timestamp_pb2 import Timestamp

from cp_common import topics
from cp_common.kafka import headers as h
from cp_layer_kit.testing import LocalTokens
from cp_testing.apps import running_app
from cp_testing.waiting import eventually
from cryptopredict.common.v1 import market_pb2 as common
from cryptopredict.market.v1 import market_data_pb2 as pb
from ingestion_service.app import SPEC
from ingestion_service.read_cache import CandleReadCache
from ingestion_service.settings import IngestionSettings

from .ingestion_testing import RunningIngestion, running_ingestion

HISTORY_DAYS = 40


@pytest.fixture(scope="module")
async def service(
    migrated_database: Callable[[], str],
    redis_url: str,
    kafka_bootstrap_servers: str,
    free_port: Callable[[], int],
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[RunningIngestion]:
    settings = IngestionSettings(
        environment="test",
        database_url=migrated_database(),
        redis_url=redis_url,
        kafka_bootstrap_servers=kafka_bootstrap_servers,
        grpc_port=free_port(),
        CP_STATE_DIR=tmp_path_factory.mktemp("ingestion-state"),
        ingestion_history_days=HISTORY_DAYS,
        ingestion_intraday_days=3,
        # one simulated hour every 0.5 s; a short event window. The session's broker is shared
        # with other tests' consumers, so this module publishes only about a thousand events.
        ingestion_synthetic_speed=3600 * 2,
        ingestion_event_window_hours=2,
    )
    async with running_ingestion(settings) as running:
        yield running


async def test_start_up_waits_for_the_synthetic_history(service: RunningIngestion) -> None:
    runner = service.runner
    assert runner.backfilled.is_set()
    stored = runner.last_backfill.summary()["candles_stored_by_interval"]
    assert stored["1d"]["inserted"] == 42 * HISTORY_DAYS
    assert stored["1h"]["inserted"] == 42 * 24 * 3 and stored["4h"]["inserted"] == 42 * 6 * 3
    ready = await service.client.get("/readyz")
    assert ready.status_code == 200


async def test_assets_and_sectors(service: RunningIngestion) -> None:
    client = service.client
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


async def test_candles_for_a_symbol(service: RunningIngestion) -> None:
    client = service.client
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


CANDLES = "/api/v1/market/candles/BTC"
SNAPSHOTS = "/api/v1/market/snapshots"
ASSETS = "/api/v1/market/assets"


@pytest.mark.parametrize(
    ("path", "query", "status", "field", "message"),
    [
        (CANDLES, {"interval": "5m"}, 422, "query.interval", "'1h', '4h' or '1d'"),
        ("/api/v1/market/candles/BT-C", {}, 422, "path.symbol", "should match pattern"),
        ("/api/v1/market/candles/NOPE", {}, 404, None, "Symbol NOPE not found"),
        (CANDLES, {"start": "2023-01-01", "end": "2024-06-01"}, 422, "query.end", "365 days"),
        (CANDLES, {"start": "2023-02-01", "end": "2023-01-01"}, 422, "query.end", "not be after"),
        (CANDLES, {"start": "yesterday-ish"}, 422, "query.start", "datetime"),
        (CANDLES, {"limit": 0}, 422, "query.limit", "greater than or equal to 1"),
        (CANDLES, {"limit": "abc"}, 422, "query.limit", "valid integer"),
        (ASSETS, {"sector": "casinos"}, 422, "query.sector", "unknown sector"),
        ("/api/v1/market/assets/ZZZ", {}, 404, None, "Symbol ZZZ not found"),
    ],
)
async def test_bad_requests_get_clear_errors_in_the_envelope(
    service: RunningIngestion,
    path: str,
    query: dict[str, object],
    status: int,
    field: str | None,
    message: str,
) -> None:
    response = await service.client.get(path, params=query)
    body = response.json()
    assert response.status_code == status, body
    assert body["success"] is False and body["error_code"] == status
    if field is None:
        assert message in body["error"]
    else:
        assert [d["field"] for d in body["details"]] == [field], body
        assert message in body["details"][0]["message"], body


HUGE = "9" * 400
#: Bad values for every query and path parameter of /api/v1/market: out-of-range dates,
#: NUL and other control characters, huge numbers.
BAD_VALUES: list[tuple[str, dict[str, str]]] = [
    *[
        (path, {name: value})
        for path in (CANDLES, SNAPSHOTS)
        for name in ("start", "end")
        for value in (
            "0001-01-01",
            "9999-12-31T23:59:59-23:59",
            "1969-12-31T23:59:59Z",
            "2100-01-02",
            "10000-01-01",
            "20240131",
            HUGE,
            "-" + HUGE,
            "2024-01-01\x00",
            "\x00",
            "2024-01-01T00:00:00\x1b[0m",
            "NaN",
        )
    ],
    *[
        (path, {"limit": value})
        for path in (CANDLES, SNAPSHOTS, ASSETS)
        for value in (HUGE, "-" + HUGE, "1e3", "0", "1001", "1\x00", "")
    ],
    *[(CANDLES, {"interval": value}) for value in ("1d\x00", "\x7f", "1D", HUGE)],
    *[(ASSETS, {"sector": value}) for value in ("defi\x00", "\x01", " ", "d" * 5000)],
    *[("/api/v1/market/candles/" + value, {}) for value in ("BTC%00", "B%0aTC", "X" * 21, HUGE)],
    *[("/api/v1/market/assets/" + value, {}) for value in ("BTC%00", "%1b", "X" * 21)],
]


@pytest.mark.parametrize(("path", "query"), BAD_VALUES)
async def test_every_parameter_refuses_bad_values_with_a_422(
    service: RunningIngestion, path: str, query: dict[str, str]
) -> None:
    response = await service.client.get(path, params=query)
    body = response.json()
    assert response.status_code == 422, (path, query, body)
    assert body["success"] is False and body["error_code"] == 422 and body["details"], body


async def test_an_empty_sector_means_no_filter(service: RunningIngestion) -> None:
    unfiltered = (await service.client.get(ASSETS, params={"limit": 50})).json()["data"]
    empty = await service.client.get(ASSETS, params={"sector": "", "limit": 50})
    assert empty.status_code == 200 and empty.json()["data"]["count"] == unfiltered["count"] > 19


async def test_moments_at_the_edges_of_the_range_are_accepted(service: RunningIngestion) -> None:
    client = service.client
    for query in ({"start": "1970-01-01"}, {"end": "2100-01-01T00:00:00Z"}, {"start": "2099-06-01"}):
        for path in (CANDLES, SNAPSHOTS):
            response = await client.get(path, params=query)
            assert response.status_code == 200, (path, query, response.text)


async def test_overview_and_snapshot_history(service: RunningIngestion) -> None:
    client = service.client
    data = (await client.get("/api/v1/market/overview")).json()["data"]
    assert data["total_market_cap"] > 0 and 0 < data["btc_dominance"] < 100
    assert 0 < data["eth_dominance"] < data["btc_dominance"] and data["stablecoin_dominance"] > 0
    assert 0 <= data["fear_greed"]["value"] <= 100 and data["fear_greed"]["label"]
    assert data["market_cap_change_24h_pct"] is not None and len(data["top_assets"]) == 10
    history = (await client.get("/api/v1/market/snapshots")).json()["data"]
    assert history["count"] >= 30
    taken = [s["taken_at"] for s in history["snapshots"]]
    assert taken == sorted(taken) and datetime.fromisoformat(taken[-1]).hour == 0


async def test_grpc_batched_candles(service: RunningIngestion) -> None:
    stub = service.stub
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


async def test_grpc_snapshots_and_universe(service: RunningIngestion) -> None:
    stub = service.stub
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
    service: RunningIngestion, kafka_bootstrap_servers: str, unique_name
) -> None:
    pool = service.runtime.pool
    consumer = AIOKafkaConsumer(
        topics.MARKET_CANDLES.name,
        bootstrap_servers=kafka_bootstrap_servers,
        group_id=unique_name("ingestion-test"),
        auto_offset_reset="latest",
    )
    await consumer.start()
    try:
        await eventually(lambda: _assigned(consumer), within=30, what="partition assignment")
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
    tokens = LocalTokens()
    async with running_app(SPEC, settings) as running, running.client() as client:
        anonymous = await client.get("/api/v1/market/assets")
        forged = await client.get("/api/v1/market/candles/BTC", headers={"Authorization": "Bearer not-a-jwt"})
        running.app.state.jwt_verifier = tokens.verifier()
        signed_in = await client.get("/api/v1/market/assets", headers=tokens.headers())
    assert anonymous.status_code == 401 and anonymous.json()["error"] == "missing bearer token"
    assert forged.status_code == 401 and forged.json()["success"] is False
    assert signed_in.status_code == 200 and signed_in.json()["success"] is True


def test_public_reads_default_by_environment() -> None:
    assert IngestionSettings(environment="local").reads_are_public
    production = IngestionSettings(environment="production", jwks_url="http://auth/.well-known/jwks.json")
    assert not production.reads_are_public
    with pytest.raises(ValueError, match="JWKS_URL is required"):
        IngestionSettings(environment="production")


async def test_cached_candle_reads_are_dropped_when_candles_are_stored(service: RunningIngestion) -> None:
    client, pool = service.client, service.runtime.require_pool()
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

    await eventually(lambda: stored_after(first), within=30, what="a new BTC candle")
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
