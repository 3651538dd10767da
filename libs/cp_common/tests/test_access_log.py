"""One access line per request, written off the event loop, with the request's id and route."""

from __future__ import annotations

import asyncio
import logging

import httpx
import pytest
from fastapi import APIRouter

from cp_common.context import new_request_id
from cp_common.http import create_app, ok
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
