"""Executing needs the ``execute`` scope: a read-only API key's token reads signals but cannot
execute one, a read+execute key's token can (tokens from the real auth service)."""

from __future__ import annotations

import uuid

import httpx

from .test_layer4_api import _signal, timing
from .timing_testing import PASSWORD, AuthServer, RunningTiming, bearer, store_signal

__all__ = ["timing"]  # this module's running service (module scope)


async def _key_token(auth_server: AuthServer, scope: str) -> str:
    email = f"l4-key-{uuid.uuid4().hex[:10]}@example.com"
    async with httpx.AsyncClient(base_url=auth_server.url, timeout=30) as client:
        await client.post("/api/v1/auth/register", json={"email": email, "password": PASSWORD})
        login = await client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
        session = login.json()["data"]["access_token"]
        created = await client.post(
            "/api/v1/auth/api-keys", json={"name": "bot", "scope": scope}, headers=bearer(session)
        )
        assert created.status_code == 201, created.text
        exchanged = await client.post(
            "/api/v1/auth/api-keys/token", json={"api_key": created.json()["data"]["api_key"]}
        )
    return exchanged.json()["data"]["access_token"]


async def test_a_read_only_key_cannot_execute(timing: RunningTiming, auth_server: AuthServer) -> None:
    signal = await store_signal(timing.pool, _signal("XKEY"))
    read_only = await _key_token(auth_server, "read")
    acting = await _key_token(auth_server, "read execute")
    execute = f"/api/v1/layer4/signals/{signal.id}/execute"
    async with timing.client() as client:
        assert (
            await client.get(f"/api/v1/layer4/signals/{signal.id}", headers=bearer(read_only))
        ).status_code == 200
        refused = await client.post(execute, json={"size": 0.04}, headers=bearer(read_only))
        assert refused.status_code == 403 and refused.json()["success"] is False
        assert "execute" in refused.json()["error"]
        done = await client.post(execute, json={"size": 0.04}, headers=bearer(acting))
        assert done.status_code == 200, done.text
