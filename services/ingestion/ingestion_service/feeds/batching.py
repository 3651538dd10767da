"""Turn one or more async streams of items into micro-batches: whatever arrived together.

``micro_batches(a, b, ...)`` runs each source in its own task feeding one queue; the consumer
waits for the first item, then takes every item already queued (up to ``max_items``). An idle
feed therefore has the latency of a single item, and a busy one (or a slow consumer) writes
many items per transaction. A source that fails re-raises its error in the consumer.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class _Failed:
    error: BaseException


_DONE = object()


async def micro_batches(*sources: AsyncIterator[T], max_items: int = 1000) -> AsyncIterator[list[T]]:
    queue: asyncio.Queue[object] = asyncio.Queue()

    async def pump(source: AsyncIterator[T]) -> None:
        try:
            async for item in source:
                queue.put_nowait(item)
        except Exception as exc:
            queue.put_nowait(_Failed(exc))
        finally:
            queue.put_nowait(_DONE)

    tasks = [asyncio.create_task(pump(source)) for source in sources]
    running = len(tasks)
    try:
        while running:
            batch: list[T] = []
            item = await queue.get()
            while True:
                if item is _DONE:
                    running -= 1
                elif isinstance(item, _Failed):
                    raise item.error
                else:
                    batch.append(item)  # type: ignore[arg-type]
                if len(batch) >= max_items or queue.empty():
                    break
                item = queue.get_nowait()
            if batch:
                yield batch
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
