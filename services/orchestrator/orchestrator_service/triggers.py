"""What starts a cascade besides an API call: the schedule and significant market moves.

Schedule: time is cut into slots of ``orchestrator_schedule_s``; the replica that claims a slot
in PostgreSQL (a unique row, ``schedule_claims``) runs it, every other replica skips it, so one
replica runs each scheduled cascade. The run id is ``schedule-<slot>``.

Market moves: a closed candle on ``market.candles.v1`` whose body moves more than
``orchestrator_move_threshold`` starts a run, at most one per ``orchestrator_move_debounce_s``
across replicas (a Redis key set with NX and that expiry). The run id comes from the candle, so a
redelivered event retries the same run rather than starting another.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time

import asyncpg

from cp_common.errors import ServiceError
from cp_common.kafka.consumer import Event
from cryptopredict.events.v1 import market_pb2
from orchestrator_service.cascade import CascadeRequest
from orchestrator_service.components import Components
from orchestrator_service.storage import runs

log = logging.getLogger(__name__)
REPLICA = f"{socket.gethostname()}:{id(object())}"


def slot_of(now: float, interval_s: float) -> int:
    return int(now // interval_s)


async def run_quietly(parts: Components, request: CascadeRequest) -> None:
    """A triggered run: failures are already stored and published with the run; log them."""
    try:
        await parts.cascade.run(request)
    except ServiceError as exc:
        log.warning("triggered cascade failed", extra={"run_id": request.run_id, "error": str(exc)})


async def schedule_once(parts: Components, now: float, interval_s: float) -> bool:
    """Runs this slot's cascade if this replica claims it; True when it did."""
    slot = slot_of(now, interval_s)
    if not await runs.claim_slot(parts.pool, slot, REPLICA):
        return False
    await run_quietly(parts, CascadeRequest(run_id=f"schedule-{slot}", trigger="schedule"))
    return True


async def run_schedule(parts: Components) -> None:
    interval = parts.settings.orchestrator_schedule_s
    if interval <= 0:
        return
    while True:
        now = time.time()
        await asyncio.sleep(interval - now % interval)  # the start of the next slot
        try:
            await schedule_once(parts, time.time(), interval)
        except (OSError, asyncpg.PostgresError):
            log.warning("scheduled cascade could not start", exc_info=True)


def move_of(candle: market_pb2.CandleClosed) -> float:
    bar = candle.candle
    return abs(bar.close / bar.open - 1.0) if bar.open > 0 else 0.0


class MoveTrigger:
    """Handler of ``market.candles.v1``: starts a debounced run on a significant move."""

    def __init__(self, parts: Components) -> None:
        self.parts = parts
        self._running: set[asyncio.Task[None]] = set()

    async def __call__(self, event: Event, conn: asyncpg.Connection) -> None:
        candle: market_pb2.CandleClosed = event.message
        settings = self.parts.settings
        if move_of(candle) < settings.orchestrator_move_threshold:
            return
        debounce_ms = max(1, int(settings.orchestrator_move_debounce_s * 1000))
        if not await self.parts.redis.set(
            "orchestrator:move-trigger", event.event_id, nx=True, px=debounce_ms
        ):
            return
        bar = candle.candle
        run_id = f"move-{bar.symbol}-{bar.open_time.seconds}"
        log.info("market move triggers a cascade", extra={"symbol": bar.symbol, "move": move_of(candle)})
        # The run takes seconds; the consumer moves on (the run records its own outcome).
        task = asyncio.create_task(
            run_quietly(self.parts, CascadeRequest(run_id=run_id, trigger="market_event"))
        )
        self._running.add(task)
        task.add_done_callback(self._running.discard)
