"""Helpers shared by the ingestion tests: the service run in-process, rows, table digests."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg
import grpc
import httpx
import pandas as pd

from cp_common.service import Runtime
from cp_market.candles import Candle
from cp_testing.apps import RunningApp, running_app
from cryptopredict.market.v1 import market_data_pb2_grpc as pb_grpc
from ingestion_service.app import SPEC, runner_of
from ingestion_service.runner import FeedRunner
from ingestion_service.settings import IngestionSettings


@dataclass
class RunningIngestion:
    """The ingestion service started in-process, with an HTTP client and a gRPC stub on it."""

    running: RunningApp[IngestionSettings]
    client: httpx.AsyncClient
    stub: pb_grpc.MarketDataServiceStub

    @property
    def runtime(self) -> Runtime:
        return self.running.runtime

    @property
    def runner(self) -> FeedRunner:
        return runner_of(self.runtime)


@contextlib.asynccontextmanager
async def running_ingestion(settings: IngestionSettings) -> AsyncIterator[RunningIngestion]:
    async with running_app(SPEC, settings) as running:
        async with (
            running.client(base_url="http://ingestion") as client,
            grpc.aio.insecure_channel(running.grpc_target) as channel,
        ):
            yield RunningIngestion(running, client, pb_grpc.MarketDataServiceStub(channel))


def candle(
    symbol: str = "BTC",
    interval: str = "1h",
    open_time: datetime | str = "2024-01-01T00:00Z",
    close: float = 100.0,
    **changes: object,
) -> Candle:
    opened = pd.Timestamp(open_time).to_pydatetime().astimezone(UTC)
    values: dict[str, object] = {
        "symbol": symbol,
        "interval": interval,
        "open_time": opened,
        "open": close * 0.99,
        "high": close * 1.02,
        "low": close * 0.97,
        "close": close,
        "volume": 10.0,
        "quote_volume": 10.0 * close,
        "source": "binance",
        "quote": "USDT",
    }
    values.update(changes)
    return Candle(**values)  # type: ignore[arg-type]


async def table_checksum(conn: asyncpg.Connection | asyncpg.Pool, table: str, order: str) -> tuple[int, str]:
    """(row count, md5 of every row's data columns in key order) of an ingestion table."""
    columns = {
        "candles": "symbol, interval, open_time, open, high, low, close, volume, quote_volume, market_cap, "
        "quote, source, quality_flags, ingested_at, updated_at",
        "market_snapshots": "taken_at, total_market_cap, total_volume_24h, btc_dominance, eth_dominance, "
        "stablecoin_dominance, usdt_market_cap, fear_greed, fear_greed_label, stale_market_cap, source, "
        "ingested_at, updated_at",
        "assets": "symbol, name, sector, market_cap_rank, coingecko_id, sector_tags, source, updated_at",
    }[table]
    row = await conn.fetchrow(
        f"SELECT count(*) AS n, md5(string_agg(({columns})::text, '|' ORDER BY {order})) AS digest FROM {table}"
    )
    return int(row["n"]), str(row["digest"])


async def outbox_count(conn: asyncpg.Connection | asyncpg.Pool, topic: str | None = None) -> int:
    if topic is None:
        return int(await conn.fetchval("SELECT count(*) FROM outbox"))
    return int(await conn.fetchval("SELECT count(*) FROM outbox WHERE topic = $1", topic))
