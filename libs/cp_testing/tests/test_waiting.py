"""eventually() waits for plain and async conditions, and fails with the awaited state named."""

from __future__ import annotations

import asyncio

import pytest

from cp_testing.waiting import eventually


async def test_returns_once_a_plain_condition_holds() -> None:
    calls = []

    def condition() -> bool:
        calls.append(1)
        return len(calls) >= 3

    await eventually(condition, within=5, interval=0.001)
    assert len(calls) == 3


async def test_awaits_an_async_condition() -> None:
    done = asyncio.Event()
    asyncio.get_running_loop().call_later(0.02, done.set)

    async def is_done() -> bool:
        return done.is_set()

    await eventually(is_done, within=5, interval=0.005)
    assert done.is_set()


async def test_fails_after_the_bound_naming_what_it_waited_for() -> None:
    with pytest.raises(AssertionError, match=r"timed out after 0.05 s waiting for the answer"):
        await eventually(lambda: False, within=0.05, interval=0.01, what="the answer")


async def test_checks_at_least_once_with_no_time_to_wait() -> None:
    await eventually(lambda: True, within=0)


async def test_returns_the_first_truthy_result() -> None:
    answers = iter([[], [], ["row"]])
    assert await eventually(lambda: next(answers), within=5, interval=0.001) == ["row"]
