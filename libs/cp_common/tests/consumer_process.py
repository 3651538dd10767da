"""A consumer in its own process, so a test can SIGKILL it between handling and committing.

argv: database_url schema bootstrap group_id block_symbol. The event of ``block_symbol`` whose
candle source is "block" makes the handler hang (after earlier events in the same batch were
handled and committed to the DB but
before the batch's offsets are committed to Kafka).
"""

from __future__ import annotations

import asyncio
import sys

from cp_common.db.pool import create_pool
from cp_common.kafka import Event, EventConsumer, EventProducer, Subscription
from cp_common.tests.kafka_helpers import TOPIC, record_in_ledger
from cryptopredict.events.v1 import market_pb2


async def main(database_url: str, schema: str, bootstrap: str, group_id: str, block_symbol: str) -> None:
    async def handler(event: Event, conn) -> None:
        candle = event.message.candle
        if candle.symbol == block_symbol and candle.source == "block":
            await asyncio.sleep(3600)
        await record_in_ledger(event, conn)

    pool = await create_pool(database_url, schema, register_metrics=False)
    producer = EventProducer(bootstrap, client_id="killable")
    await producer.start()
    consumer = EventConsumer(
        bootstrap_servers=bootstrap,
        group_id=group_id,
        pool=pool,
        producer=producer,
        subscriptions=[Subscription(TOPIC, market_pb2.CandleClosed, handler)],
    )
    task = await consumer.start()
    await task


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:6]))
