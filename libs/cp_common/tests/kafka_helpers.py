"""Helpers shared by the Kafka round-trip tests (and the consumer subprocess they kill)."""

from __future__ import annotations

import uuid
from pathlib import Path

import asyncpg

from cp_common import topics
from cp_common.kafka import Event, PermanentError
from cryptopredict.common.v1 import market_pb2 as common_market
from cryptopredict.events.v1 import market_pb2

MIGRATIONS = Path(__file__).parent / "sample_migrations"
TOPIC = topics.MARKET_CANDLES.name


def candle_event(symbol: str, close: float, source: str = "test") -> market_pb2.CandleClosed:
    candle = common_market.Candle(
        symbol=symbol,
        interval=common_market.INTERVAL_1D,
        open=close,
        high=close,
        low=close,
        close=close,
        volume=1.0,
        source=source,
    )
    candle.open_time.GetCurrentTime()
    return market_pb2.CandleClosed(candle=candle)


async def record_in_ledger(event: Event, conn: asyncpg.Connection) -> None:
    """The consumer's state change: one ledger row per handled event."""
    candle = event.message.candle
    if candle.close <= 0:
        raise PermanentError(f"non-positive close {candle.close}")
    await conn.execute(
        "INSERT INTO ledger (event_id, symbol, amount) VALUES ($1, $2, $3)",
        uuid.UUID(event.event_id),
        candle.symbol,
        candle.close,
    )
