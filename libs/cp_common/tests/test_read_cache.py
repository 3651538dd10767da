"""The pre-serialised answers of hot reads (``cp_common.http.read_cache``), without a server."""

from __future__ import annotations

import asyncio
import json

import pytest
from fastapi.responses import Response

from cp_common.http.envelope import ok
from cp_common.http.read_cache import PreserialisedCache


def _body(response: Response) -> dict[str, object]:
    body = json.loads(bytes(response.body))
    assert isinstance(body, dict)
    return body


async def test_an_answer_is_built_once_and_wrapped_like_ok() -> None:
    cache = PreserialisedCache(ttl_s=60)
    data = {"regime": "bull", "confidence": 0.7, "drivers": [{"feature": "x", "value": -1.5}]}
    builds: list[int] = []

    async def build() -> bytes:
        builds.append(1)
        return ok(data).model_dump_json().encode().split(b'"data":', 1)[1].rsplit(b',"timestamp"', 1)[0]

    first, second = await cache.answer("k", build), await cache.answer("k", build)
    assert len(builds) == 1 and len(cache) == 1
    expected = json.loads(ok(data).model_dump_json())
    for response in (first, second):
        body = _body(response)
        assert response.media_type == "application/json"
        assert body.pop("timestamp") and body == {k: v for k, v in expected.items() if k != "timestamp"}


async def test_nothing_built_across_an_invalidation_is_kept() -> None:
    cache = PreserialisedCache(ttl_s=60)

    async def build_while_invalidated() -> bytes:
        cache.invalidate()  # a write committed while this answer was being read
        return b'{"old":true}'

    await cache.answer("k", build_while_invalidated)
    assert cache.get("k") is None

    async def fresh() -> bytes:
        return b'{"new":true}'

    assert _body(await cache.answer("k", fresh))["data"] == {"new": True}
    assert cache.get("k") == b'{"new":true}'
    cache.invalidate()
    assert cache.get("k") is None and len(cache) == 0


async def test_a_failed_build_is_not_kept_and_ttl_zero_keeps_nothing() -> None:
    cache = PreserialisedCache(ttl_s=60)

    async def failing() -> bytes:
        raise RuntimeError("database down")

    with pytest.raises(RuntimeError):
        await cache.answer("k", failing)
    assert len(cache) == 0
    off = PreserialisedCache(ttl_s=0)
    off.put("k", b"{}", off.version)
    assert off.get("k") is None


def test_entries_expire_and_a_flood_of_keys_starts_over(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1000.0]
    monkeypatch.setattr("cp_common.http.read_cache.time.monotonic", lambda: now[0])
    cache = PreserialisedCache(ttl_s=2.0, max_entries=3)
    cache.put("a", b"1", cache.version)
    now[0] += 1.9
    assert cache.get("a") == b"1"
    now[0] += 0.2
    assert cache.get("a") is None
    for key in ("a", "b", "c", "d"):
        cache.put(key, b"1", cache.version)
    assert len(cache) == 1 and cache.get("d") == b"1"


async def test_concurrent_misses_share_one_build() -> None:
    cache = PreserialisedCache(ttl_s=60)
    started = asyncio.Event()
    release = asyncio.Event()
    builds: list[int] = []

    async def build() -> bytes:
        builds.append(cache.version)
        started.set()
        await release.wait()
        return b'{"n":1}'

    waiting = [asyncio.create_task(cache.answer("k", build)) for _ in range(50)]
    await started.wait()
    waiting[0].cancel()  # a request that goes away does not take the build with it
    release.set()
    answers = await asyncio.gather(*waiting[1:])
    assert builds == [0] and all(_body(a)["data"] == {"n": 1} for a in answers)
    assert waiting[0].cancelled() and cache.get("k") == b'{"n":1}'


async def test_a_miss_after_an_invalidation_does_not_join_an_older_build() -> None:
    cache = PreserialisedCache(ttl_s=60)
    release = asyncio.Event()
    builds: list[int] = []

    async def build() -> bytes:
        builds.append(len(builds) + 1)
        number = builds[-1]
        await release.wait()
        return f'{{"build":{number}}}'.encode()

    before = asyncio.create_task(cache.answer("k", build))
    await asyncio.sleep(0.01)
    cache.invalidate()  # a write committed meanwhile
    after = asyncio.create_task(cache.answer("k", build))
    await asyncio.sleep(0.01)
    release.set()
    assert _body(await before)["data"] == {"build": 1}
    assert _body(await after)["data"] == {"build": 2}
    assert builds == [1, 2] and cache.get("k") == b'{"build":2}'


async def test_a_failed_build_fails_every_request_sharing_it_and_is_not_kept() -> None:
    cache = PreserialisedCache(ttl_s=60)
    release = asyncio.Event()
    calls: list[int] = []

    async def build() -> bytes:
        calls.append(1)
        await release.wait()
        raise LookupError("no such symbol")

    waiting = [asyncio.create_task(cache.answer("k", build)) for _ in range(5)]
    await asyncio.sleep(0)
    release.set()
    results = await asyncio.gather(*waiting, return_exceptions=True)
    assert len(calls) == 1 and all(isinstance(r, LookupError) for r in results)
    assert cache.get("k") is None and len(cache) == 0
