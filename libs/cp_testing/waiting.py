"""Waiting in tests for something that happens in the background (an event consumed, a
metric counted, a leader elected) without sleeping a fixed time."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable

Condition = Callable[[], bool | Awaitable[bool]]


async def eventually(
    condition: Condition, *, within: float = 10.0, interval: float = 0.05, what: str = ""
) -> None:
    """Return as soon as ``condition()`` is true; fail the test after ``within`` seconds.

    ``condition`` may be a plain function or return an awaitable (an ``async def`` or a
    lambda around a coroutine), and is called at least once even with ``within=0``.
    ``what`` names the awaited state in the failure message.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        result = condition()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return
        if loop.time() >= deadline:
            raise AssertionError(f"timed out after {within:g} s waiting for {what or condition}")
        await asyncio.sleep(interval)
