"""Waiting in tests for something that happens in the background (an event consumed, a
metric counted, a leader elected) without sleeping a fixed time."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, overload

T = TypeVar("T")


@overload
async def eventually(
    condition: Callable[[], Awaitable[T]], *, within: float = ..., interval: float = ..., what: str = ...
) -> T: ...


@overload
async def eventually(
    condition: Callable[[], T], *, within: float = ..., interval: float = ..., what: str = ...
) -> T: ...


async def eventually(
    condition: Callable[[], Any], *, within: float = 10.0, interval: float = 0.05, what: str = ""
) -> Any:
    """Return ``condition()``'s first truthy result; fail the test after ``within`` seconds.

    ``condition`` may be a plain function or return an awaitable (an ``async def`` or a
    lambda around a coroutine), and is called at least once even with ``within=0``.
    ``what`` names the awaited state in the failure message.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        value = condition()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        if loop.time() >= deadline:
            raise AssertionError(f"timed out after {within:g} s waiting for {what or condition}")
        await asyncio.sleep(interval)
