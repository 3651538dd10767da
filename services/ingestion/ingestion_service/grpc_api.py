"""gRPC ``cryptopredict.market.v1.MarketDataService`` for the layers and the orchestrator."""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg
import grpc.aio
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from cp_common.errors import BadRequest, NotFound
from cp_common.grpc import GrpcServer
from cryptopredict.market.v1 import market_data_pb2 as pb
from cryptopredict.market.v1 import market_data_pb2_grpc as pb_grpc
from ingestion_service import events
from ingestion_service.api import params
from ingestion_service.storage import assets as asset_store
from ingestion_service.storage import candles as candle_store
from ingestion_service.storage import snapshots as snapshot_store

SERVICE_NAME = "cryptopredict.market.v1.MarketDataService"
MAX_SYMBOLS = 200
MAX_LOOKBACK = 1000
DEFAULT_TOP_ASSETS = 20
MAX_TOP_ASSETS = 200
DEFAULT_UNIVERSE = 100
MAX_UNIVERSE = 500
DEFAULT_SNAPSHOTS = 366
MAX_SNAPSHOTS = 1000


def _bounded(value: int, *, default: int, maximum: int, name: str) -> int:
    if value == 0:
        return default
    if not 1 <= value <= maximum:
        raise BadRequest(f"{name} must be between 1 and {maximum}")
    return value


def _moment(message: Message, field: str) -> datetime | None:
    """The request's ``field`` timestamp in UTC, None when unset; a timestamp outside the
    representable years is INVALID_ARGUMENT (not an INTERNAL from the conversion)."""
    if not message.HasField(field):
        return None
    stamp: Timestamp = getattr(message, field)
    try:
        moment = stamp.ToDatetime(tzinfo=UTC)
    except (ValueError, OverflowError):
        raise BadRequest(f"{field} is not a valid timestamp") from None
    return params.in_range(moment, field)


def _interval(value: int) -> str:
    interval = events.PROTO_TO_INTERVAL.get(value)
    if interval is None:
        raise BadRequest("interval must be INTERVAL_1H, INTERVAL_4H or INTERVAL_1D")
    return interval


class MarketDataGrpcService(pb_grpc.MarketDataServiceServicer):
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def GetCandles(
        self, request: pb.GetCandlesRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetCandlesResponse:
        symbols = params.symbols(list(request.symbols), max_items=MAX_SYMBOLS)
        interval = _interval(request.interval)
        if not 1 <= request.lookback <= MAX_LOOKBACK:
            raise BadRequest(f"lookback must be between 1 and {MAX_LOOKBACK}")
        end = _moment(request, "end_time")
        series = await candle_store.latest_candles(self.pool, symbols, interval, request.lookback, end)
        return pb.GetCandlesResponse(
            series=[
                pb.SymbolCandles(symbol=s, candles=[events.candle_message(r) for r in series[s]])
                for s in symbols
                if s in series
            ],
            missing_symbols=[s for s in symbols if s not in series],
        )

    async def GetLatestSnapshot(
        self, request: pb.GetLatestSnapshotRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetLatestSnapshotResponse:
        top = _bounded(
            request.top_assets, default=DEFAULT_TOP_ASSETS, maximum=MAX_TOP_ASSETS, name="top_assets"
        )
        row = await snapshot_store.latest_snapshot(self.pool)
        if row is None:
            raise NotFound("no market snapshot has been stored yet")
        before = await snapshot_store.market_cap_before(self.pool, row["taken_at"])
        quotes = await asset_store.universe(self.pool, limit=top, as_of=row["taken_at"])
        return pb.GetLatestSnapshotResponse(
            snapshot=events.snapshot_message(row, market_cap_day_before=before, quotes=quotes)
        )

    async def ListSnapshots(
        self, request: pb.ListSnapshotsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListSnapshotsResponse:
        limit = _bounded(request.limit, default=DEFAULT_SNAPSHOTS, maximum=MAX_SNAPSHOTS, name="limit")
        start = _moment(request, "start_time")
        end = _moment(request, "end_time")
        first, last = await params.snapshot_range(self.pool, start, end)
        rows = await snapshot_store.snapshots_between(self.pool, first, last, limit)
        return pb.ListSnapshotsResponse(snapshots=[events.snapshot_message(r) for r in rows])

    async def GetUniverse(
        self, request: pb.GetUniverseRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetUniverseResponse:
        top = _bounded(request.top_n, default=DEFAULT_UNIVERSE, maximum=MAX_UNIVERSE, name="top_n")
        sector = params.sector(request.sector)
        rows = await asset_store.universe(self.pool, limit=top, sector=sector)
        sectors = await asset_store.sectors_with_assets(self.pool)
        return pb.GetUniverseResponse(
            assets=[
                pb.UniverseAsset(
                    symbol=r["symbol"],
                    name=r["name"],
                    sector=r["sector"] or "",
                    market_cap_rank=r["market_cap_rank"] or 0,
                    quote=events.asset_quote(r),
                )
                for r in rows
            ],
            sectors=[
                pb.Sector(sector=s["sector"], name=s["name"], asset_count=s["asset_count"]) for s in sectors
            ],
        )


def register(pool: asyncpg.Pool, server: GrpcServer) -> None:
    server.add_servicer(
        pb_grpc.add_MarketDataServiceServicer_to_server, MarketDataGrpcService(pool), SERVICE_NAME
    )
