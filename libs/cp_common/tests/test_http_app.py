"""The app factory's envelope, error handlers, health endpoints and request ids."""

from __future__ import annotations

import json
import logging

import httpx
import pytest
from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from cp_common.errors import NotFound
from cp_common.http import Envelope, create_app, ok
from cp_common.settings import ServiceSettings


class Item(BaseModel):
    name: str = Field(min_length=1)
    password: str
    quantity: int = Field(ge=1)


def build_app(checks=None):
    router = APIRouter()

    @router.get("/items/{item_id}", response_model=Envelope[dict])
    async def get_item(item_id: int):
        if item_id == 404:
            raise NotFound("Item 404 not found")
        return ok({"id": item_id})

    @router.post("/items")
    async def create_item(item: Item):
        return ok({"name": item.name})

    @router.get("/boom")
    async def boom():
        raise RuntimeError("database password=hunter2 leaked in an exception")

    settings = ServiceSettings(service_name="test-http", cors_origins=["http://localhost:3000"])
    return create_app(settings, title="test", routers=[router], readiness_checks=checks)


@pytest.fixture
def client():
    app = build_app()
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://test")


async def test_success_envelope(client):
    response = await client.get("/items/7")
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True and body["data"] == {"id": 7}
    assert "timestamp" in body


async def test_unknown_route_is_404_envelope(client):
    response = await client.get("/nope")
    assert response.status_code == 404
    body = response.json()
    assert body == {**body, "success": False, "error_code": 404, "error": "Not Found"}
    assert body["request_id"] == response.headers["x-request-id"]


async def test_service_error_maps_to_status(client):
    response = await client.get("/items/404")
    assert response.status_code == 404
    assert response.json()["error"] == "Item 404 not found"


async def test_validation_error_is_422_without_echoing_input(client):
    response = await client.post("/items", json={"name": "", "password": "s3cret-value", "quantity": 0})
    assert response.status_code == 422
    body = response.json()
    assert body["success"] is False and body["error_code"] == 422
    fields = {d["field"] for d in body["details"]}
    assert fields == {"body.name", "body.quantity"}
    assert "s3cret-value" not in response.text


async def test_path_param_type_error_is_422(client):
    response = await client.get("/items/abc")
    assert response.status_code == 422
    assert response.json()["details"][0]["field"] == "path.item_id"


async def test_unexpected_error_is_generic_500(client, caplog):
    with caplog.at_level(logging.ERROR):
        response = await client.get("/boom")
    assert response.status_code == 500
    body = response.json()
    assert body["error"] == "Internal server error" and body["error_code"] == 500
    assert "hunter2" not in response.text


async def test_request_id_passes_through_and_bad_ones_are_replaced(client):
    response = await client.get("/items/1", headers={"X-Request-ID": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"
    response = await client.get("/items/1", headers={"X-Request-ID": "bad id\twith spaces"})
    assert response.headers["x-request-id"] != "bad id\twith spaces"
    assert len(response.headers["x-request-id"]) == 32


async def test_healthz_and_readyz():
    state = {"up": True}

    async def dependency():
        if not state["up"]:
            raise ConnectionError("down")

    app = build_app(checks={"dependency": dependency})
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        assert (await client.get("/healthz")).status_code == 200
        ready = await client.get("/readyz")
        assert ready.status_code == 200 and ready.json()["data"]["checks"]["dependency"]["ok"] is True
        state["up"] = False
        ready = await client.get("/readyz")
        assert ready.status_code == 503
        body = ready.json()
        assert body["success"] is False and "dependency" in body["error"]
        assert body["data"]["checks"]["dependency"] == {
            **body["data"]["checks"]["dependency"],
            "ok": False,
            "error": "ConnectionError",
        }


async def test_metrics_count_route_templates(client):
    await client.get("/items/11")
    await client.get("/items/12")
    metrics = (await client.get("/metrics")).text
    assert 'http_requests_total{method="GET",route="/items/{item_id}",status="200"}' in metrics
    assert "/items/11" not in metrics


async def test_cors_preflight_from_allowed_origin(client):
    response = await client.options(
        "/items/1",
        headers={"Origin": "http://localhost:3000", "Access-Control-Request-Method": "GET"},
    )
    assert response.headers["access-control-allow-origin"] == "http://localhost:3000"
    denied = await client.options(
        "/items/1", headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "GET"}
    )
    assert "access-control-allow-origin" not in denied.headers


def test_json_log_lines_redact_secrets(capsys):
    from cp_common.logging import configure_logging

    configure_logging("redaction-test")
    log = logging.getLogger("redaction")
    token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJlLXZhbHVl"
    log.info(
        "login with password=hunter2 and Bearer %s",
        token,
        extra={"headers": {"Authorization": f"Bearer {token}", "accept": "json"}, "api_key": "k-123"},
    )
    line = capsys.readouterr().out.strip().splitlines()[-1]
    entry = json.loads(line)
    assert entry["service"] == "redaction-test" and entry["level"] == "info"
    assert "hunter2" not in line and token not in line and "k-123" not in line
    assert entry["headers"]["Authorization"] == "[REDACTED]" and entry["headers"]["accept"] == "json"


def _limited_app(max_bytes: int):
    router = APIRouter()

    @router.post("/upload")
    async def upload(request: Request) -> dict[str, int]:
        return {"length": len(await request.body())}

    @router.post("/items")
    async def create_item(item: Item) -> dict[str, str]:
        return {"name": item.name}

    settings = ServiceSettings(service_name="test-body-limit", http_max_body_bytes=max_bytes)
    return create_app(settings, title="test", routers=[router])


@pytest.fixture
def limited_client():
    transport = httpx.ASGITransport(app=_limited_app(1000), raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://test")


def _assert_413(response: httpx.Response) -> dict:
    assert response.status_code == 413
    body = response.json()
    assert body["success"] is False and body["error_code"] == 413
    assert body["request_id"] == response.headers["x-request-id"]
    return body


async def test_a_declared_body_over_the_limit_is_413_unread(limited_client):
    assert _assert_413(await limited_client.post("/upload", content=b"x" * 1001))["error"] == (
        "Request body too large (limit 1000 bytes)"
    )
    _assert_413(
        await limited_client.post("/items", json={"name": "n" * 2000, "password": "p", "quantity": 1})
    )


async def test_a_streamed_body_over_the_limit_is_413(limited_client):
    async def chunks():
        for _ in range(5):
            yield b"y" * 300

    # no Content-Length: the body is counted as it arrives, also where FastAPI parses it (which
    # turns other errors while reading into a 400)
    for path in ("/upload", "/items"):
        body = _assert_413(await limited_client.post(path, content=chunks()))
        assert body["error"] == "Request body too large (limit 1000 bytes)"


async def test_bodies_up_to_the_limit_are_read(limited_client):
    response = await limited_client.post("/upload", content=b"x" * 1000)
    assert response.status_code == 200 and response.json() == {"length": 1000}


def test_the_default_limit_is_the_gateways() -> None:
    assert ServiceSettings().http_max_body_bytes == 1024 * 1024
