"""Each replica's in-memory model inputs, rebuilt when the read model changes.

The view LISTENs on the read model's channel (a NOTIFY per bootstrap and per event); after a
quiet ``debounce`` it reloads the tables and recomputes the inputs in a thread, then swaps
them in at once, so a call always sees one consistent build. A poll of the tables' signature
covers a notification lost during a reconnect.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from cp_layer_kit.errors import MarketDataUnavailable
from cp_layer_kit.inputs import MarketInputs
from cp_layer_kit.market.store import MarketStore
from cp_layer_kit.metrics import READ_MODEL_LAST_DAY, READ_MODEL_REBUILD_SECONDS

log = logging.getLogger(__name__)

OnRebuilt = Callable[[MarketInputs], Awaitable[None]]


class MarketView:
    def __init__(
        self,
        store: MarketStore,
        *,
        layer_key: str,
        history_days: int,
        debounce_s: float = 1.0,
        poll_s: float = 60.0,
    ) -> None:
        self.store = store
        self.layer_key = layer_key
        self.history_days = history_days
        self.debounce_s = debounce_s
        self.poll_s = poll_s
        self.inputs: MarketInputs | None = None
        self.builds = 0
        self._signature: tuple[Any, ...] | None = None
        self._changed = asyncio.Event()
        self._listeners: list[OnRebuilt] = []

    def require(self) -> MarketInputs:
        if self.inputs is None:
            raise MarketDataUnavailable("market data not available yet")
        return self.inputs

    def on_rebuilt(self, callback: OnRebuilt) -> None:
        """Call ``callback`` after every rebuild (e.g. Layer 1 refreshing its latest result)."""
        self._listeners.append(callback)

    async def rebuild(self) -> bool:
        """Reload and recompute if the tables changed; returns whether a new build is in."""
        signature = await self.store.signature()
        if signature == self._signature and self.inputs is not None:
            return False
        started = time.perf_counter()
        data = await self.store.load(self.history_days)
        if data is None:
            return False
        inputs = await asyncio.to_thread(MarketInputs.build, data)
        self.inputs, self._signature = inputs, signature
        self.builds += 1
        READ_MODEL_REBUILD_SECONDS.labels(self.layer_key).observe(time.perf_counter() - started)
        READ_MODEL_LAST_DAY.labels(self.layer_key).set(inputs.last_day.timestamp())
        for callback in self._listeners:
            try:
                await callback(inputs)
            except Exception:
                log.exception("market rebuild listener failed")
        return True

    async def run(self) -> None:
        """Follow the read model until cancelled (a background task)."""
        listener = await self.store.pool.acquire()

        def on_notify(*_: object) -> None:
            self._changed.set()

        await listener.add_listener(self.store.channel, on_notify)
        try:
            while True:
                try:
                    await self.rebuild()
                except Exception as exc:  # keep the last build
                    log.warning("market view rebuild failed", extra={"error": repr(exc)})
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), self.poll_s)
                await asyncio.sleep(self.debounce_s)
                self._changed.clear()
        finally:
            with contextlib.suppress(Exception):
                await listener.remove_listener(self.store.channel, on_notify)
            await self.store.pool.release(listener)
