"""Layer 1's read model follows market.candles.v1 / market.snapshots.v1 on the real broker.

Other tests publish market events on the session's broker too, so the checks look only at the
day this test publishes (a simulated day no other test uses).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pandas as pd
import pytest

from cp_common import topics
from cp_common.kafka import EventProducer
from cp_layer_kit.testing import RunningLayer
from cryptopredict.analysis.v1 import macro_pb2, macro_pb2_grpc
from cryptopredict.common.v1 import market_pb2 as market_common
from cryptopredict.events.v1 import market_pb2 as market_events


@pytest.fixture(scope="module")
async def layer1_live(start_layer1: Callable[..., Any]) -> AsyncIterator[RunningLayer]:
    async with start_layer1(layer_consume_market_events=True) as running:
        yield running


async def test_a_new_daily_candle_and_snapshot_on_kafka_reach_the_read_model_and_the_analysis(
    layer1_live: RunningLayer, kafka_bootstrap_servers: str
) -> None:
    kit = layer1_live.kit
    assert kit.view.inputs is not None
    builds = kit.view.builds
    last = kit.view.inputs.last_day
    day = last + pd.Timedelta(days=1)
    data = kit.view.inputs.data
    producer = EventProducer(kafka_bootstrap_servers, client_id="layer1-test")
    await producer.start()
    try:
        for symbol in data.symbols:
            close = float(data.close[symbol].iloc[-1])
            candle = market_common.Candle(
                symbol=symbol,
                interval=market_common.INTERVAL_1D,
                open=close,
                high=close * 1.01,
                low=close * 0.99,
                close=close * 1.005,
                volume=1000.0,
                quote_volume=1000.0 * close,
                source="test",
            )
            candle.open_time.FromDatetime(day.to_pydatetime())
            await producer.publish(topics.MARKET_CANDLES.name, market_events.CandleClosed(candle=candle))
        hourly = market_common.Candle(
            symbol="BTC", interval=market_common.INTERVAL_1H, open=1, high=1, low=1, close=1
        )
        hourly.open_time.FromDatetime((day + pd.Timedelta(days=1)).to_pydatetime())
        await producer.publish(topics.MARKET_CANDLES.name, market_events.CandleClosed(candle=hourly))
        row = data.market.iloc[-1]
        snapshot = market_common.MarketSnapshot(
            total_market_cap_usd=float(row["total_market_cap"]),
            btc_dominance_pct=float(row["btc_dominance"]),
            stablecoin_dominance_pct=float(row["stablecoin_dominance"]),
            fear_greed_index=77.0,
        )
        snapshot.taken_at.FromDatetime(day.to_pydatetime())
        await producer.publish(
            topics.MARKET_SNAPSHOTS.name, market_events.MarketSnapshotTaken(snapshot=snapshot)
        )
    finally:
        await producer.stop()
    pool = kit.runtime.require_pool()
    stamp = day.to_pydatetime()
    for _ in range(300):
        stored = await pool.fetchval("SELECT count(*) FROM market_candles_1d WHERE open_time = $1", stamp)
        snapshot = await pool.fetchval(
            "SELECT fear_greed FROM market_snapshots_1d WHERE day = $1", stamp.date()
        )
        if stored == len(data.symbols) and snapshot == 77.0 and day in kit.view.inputs.datasets.market.index:
            break
        await asyncio.sleep(0.1)
    assert stored == len(data.symbols) and snapshot == 77.0
    assert day in kit.view.inputs.datasets.market.index and kit.view.builds > builds
    # the hourly candle is not part of the daily read model
    next_day = (day + pd.Timedelta(days=1)).to_pydatetime()
    assert await pool.fetchval("SELECT count(*) FROM market_candles_1d WHERE open_time = $1", next_day) == 0
    request = macro_pb2.AnalyzeMacroRequest(cascade_run_id=f"after-{uuid.uuid4().hex[:6]}")
    request.as_of.FromDatetime(next_day)
    reply = await macro_pb2_grpc.MacroAnalysisServiceStub(layer1_live.channel).AnalyzeMacro(request)
    assert reply.run.as_of.ToDatetime().date() == stamp.date()
