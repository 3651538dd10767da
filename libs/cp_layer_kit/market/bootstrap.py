"""Fill the read model over ingestion's gRPC ``MarketDataService`` (never its schema).

One pass: the universe (top ``universe_size`` by market cap, with sectors), the daily candles
of those assets (``history_days``, 200 symbols per call) and the snapshots of those days
(windows of at most 365 days, ingestion's limit). Everything is an upsert, so a pass after a
restart or by a second replica changes nothing that is already there.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from google.protobuf.timestamp_pb2 import Timestamp

from cp_common.grpc import create_channel
from cp_layer_kit.market.store import AssetRow, CandleRow, MarketStore, SnapshotRow, snapshot_day
from cryptopredict.common.v1 import market_pb2 as common_pb
from cryptopredict.market.v1 import market_data_pb2 as pb
from cryptopredict.market.v1 import market_data_pb2_grpc as pb_grpc

log = logging.getLogger(__name__)

SYMBOLS_PER_CALL = 200
MAX_SNAPSHOT_WINDOW = timedelta(days=364)
SNAPSHOTS_PER_CALL = 1000
CALL_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class BootstrapReport:
    assets: int
    candles: int
    snapshots: int


def candle_row(candle: common_pb.Candle) -> CandleRow:
    quote = candle.quote_volume if math.isfinite(candle.quote_volume) else candle.close * candle.volume
    return (
        candle.symbol,
        candle.open_time.ToDatetime(tzinfo=UTC),
        candle.open,
        candle.high,
        candle.low,
        candle.close,
        candle.volume,
        quote,
    )


def snapshot_row(snapshot: common_pb.MarketSnapshot) -> SnapshotRow:
    taken_at = snapshot.taken_at.ToDatetime(tzinfo=UTC)
    return SnapshotRow(
        day=snapshot_day(taken_at),
        taken_at=taken_at,
        total_market_cap=snapshot.total_market_cap_usd,
        btc_dominance=snapshot.btc_dominance_pct,
        eth_dominance=snapshot.eth_dominance_pct,
        alt_dominance=snapshot.alt_dominance_pct,
        stablecoin_dominance=snapshot.stablecoin_dominance_pct,
        fear_greed=snapshot.fear_greed_index,
        market_cap_change_24h=snapshot.market_cap_change_24h_pct,
    )


def _timestamp(value: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(value)
    return stamp


async def bootstrap(
    store: MarketStore, target: str, *, history_days: int, universe_size: int, caller: str
) -> BootstrapReport:
    """One pass over ingestion's API into ``store`` (one transaction, one NOTIFY)."""
    channel = create_channel(target, caller=caller, default_timeout=CALL_TIMEOUT_S)
    try:
        stub = pb_grpc.MarketDataServiceStub(channel)
        universe = await stub.GetUniverse(pb.GetUniverseRequest(top_n=universe_size))
        assets = [
            AssetRow(
                a.symbol,
                a.sector,
                a.name,
                a.market_cap_rank or None,
                a.quote.market_cap_usd if math.isfinite(a.quote.market_cap_usd) else None,
            )
            for a in universe.assets
        ]
        symbols = [a.symbol for a in assets]
        candles: list[CandleRow] = []
        for start in range(0, len(symbols), SYMBOLS_PER_CALL):
            reply = await stub.GetCandles(
                pb.GetCandlesRequest(
                    symbols=symbols[start : start + SYMBOLS_PER_CALL],
                    interval=common_pb.INTERVAL_1D,
                    lookback=history_days,
                )
            )
            candles += [candle_row(c) for series in reply.series for c in series.candles]
        snapshots = await _snapshots(stub, candles, history_days)
    finally:
        await channel.close()
    async with store.pool.acquire() as conn, conn.transaction():
        await store.upsert_assets(conn, assets)
        await store.upsert_candles(conn, candles)
        for row in snapshots:
            await store.upsert_snapshot(conn, row)
        await store.notify(conn)
    report = BootstrapReport(len(assets), len(candles), len(snapshots))
    log.info("market read model bootstrapped", extra=report.__dict__)
    return report


async def _snapshots(
    stub: pb_grpc.MarketDataServiceStub, candles: list[CandleRow], history_days: int
) -> list[SnapshotRow]:
    if not candles:
        return []
    end = max(r[1] for r in candles) + timedelta(days=2)
    first = end - timedelta(days=history_days + 2)
    rows: list[SnapshotRow] = []
    while end > first:
        start = max(first, end - MAX_SNAPSHOT_WINDOW)
        reply = await stub.ListSnapshots(
            pb.ListSnapshotsRequest(
                start_time=_timestamp(start), end_time=_timestamp(end), limit=SNAPSHOTS_PER_CALL
            )
        )
        rows += [snapshot_row(s) for s in reply.snapshots]
        end = start - timedelta(microseconds=1)
    return rows
