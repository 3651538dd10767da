"""Kafka handlers that keep the read model current (``market.candles.v1``, ``market.snapshots.v1``).

Each runs in the consumer's transaction (the event id is recorded in ``processed_events`` in
the same one) and ends with the NOTIFY every replica's view listens for. Only daily candles
are kept: the layers' models are daily.
"""

from __future__ import annotations

import asyncpg

from cp_common import topics
from cp_common.kafka import Subscription
from cp_common.kafka.consumer import Event
from cp_layer_kit.market.bootstrap import candle_row, snapshot_row
from cp_layer_kit.market.store import MarketStore
from cryptopredict.common.v1 import market_pb2 as common_pb


def market_subscriptions(store: MarketStore) -> list[Subscription]:
    async def on_candle(event: Event, conn: asyncpg.Connection) -> None:
        candle = event.message.candle
        if candle.interval != common_pb.INTERVAL_1D or not candle.symbol:
            return
        await store.upsert_candles(conn, [candle_row(candle)])
        await store.notify(conn)

    async def on_snapshot(event: Event, conn: asyncpg.Connection) -> None:
        if not event.message.HasField("snapshot"):
            return
        await store.upsert_snapshot(conn, snapshot_row(event.message.snapshot))
        await store.notify(conn)

    return [
        Subscription(topics.MARKET_CANDLES.name, topics.MARKET_CANDLES.message_type, on_candle),
        Subscription(topics.MARKET_SNAPSHOTS.name, topics.MARKET_SNAPSHOTS.message_type, on_snapshot),
    ]
