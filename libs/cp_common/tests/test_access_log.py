"""One access line per request, written off the event loop, with the request's id and route."""

from __future__ import annotations

import asyncio
import io
import json
import logging

import httpx
import pytest
from fastapi import APIRouter

from cp_common.context import new_request_id
from cp_common.http import create_app, ok
from cp_common.logging import JsonFormatter
from cp_common.settings import ServiceSettings


async def test_each_request_gets_an_access_line_with_its_id_and_route(
    caplog: pytest.LogCaptureFixture,
) -> None:
    router = APIRouter()

    @router.get("/things/{thing_id}")
    async def thing(thing_id: int) -> object:
        return ok({"id": thing_id})

    app = create_app(
        ServiceSettings(service_name="access-test", environment="test"), title="t", routers=[router]
    )
    logging.getLogger().addHandler(caplog.handler)  # create_app replaced the root's handlers
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        response = await client.get("/things/7?token=secret", headers={"X-Request-ID": "req-access-1"})
    assert response.status_code == 200

    def lines() -> list[logging.LogRecord]:
        return [
            r
            for r in caplog.records
            if r.name == "cp_common.access" and getattr(r, "request_id", None) == "req-access-1"
        ]

    for _ in range(100):  # written by the writer thread
        if lines():
            break
        await asyncio.sleep(0.02)
    logging.getLogger().removeHandler(caplog.handler)
    (line,) = lines()
    fields = vars(line)
    assert fields["route"] == "/things/{thing_id}" and fields["status"] == 200 and fields["method"] == "GET"
    assert "secret" not in line.getMessage() and not any("secret" in str(v) for v in vars(line).values())


def test_generated_request_ids_are_32_hex_digits_and_unique() -> None:
    ids = {new_request_id() for _ in range(20_000)}
    assert len(ids) == 20_000
    assert all(len(i) == 32 and int(i, 16) >= 0 and i == i.lower() for i in ids)


async def test_lines_written_in_batches_are_whole_and_none_is_lost() -> None:
    router = APIRouter()

    @router.get("/ping")
    async def ping() -> object:
        return ok({"pong": True})

    app = create_app(
        ServiceSettings(service_name="batch-test", environment="test"), title="t", routers=[router]
    )
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)  # the plain stream handler: written a batch at a time
    handler.setFormatter(JsonFormatter("batch-test"))
    root = logging.getLogger()
    saved = root.handlers[:]
    root.handlers[:] = [handler]
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            ids = [f"batch-{i:04d}" for i in range(300)]
            await asyncio.gather(*(client.get("/ping", headers={"X-Request-ID": i}) for i in ids))
        for _ in range(200):
            written = [json.loads(line) for line in stream.getvalue().splitlines()]
            ours = [w for w in written if str(w.get("request_id", "")).startswith("batch-")]
            if len(ours) >= len(ids):
                break
            await asyncio.sleep(0.02)
    finally:
        root.handlers[:] = saved
    assert sorted(w["request_id"] for w in ours) == ids
    assert all(w["route"] == "/ping" and w["status"] == 200 and w["service"] == "batch-test" for w in ours)
