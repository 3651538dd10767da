"""Helpers for the admin tests: the admin service in-process next to the real auth and ingestion
services (real PostgreSQL, Redis, Kafka), users with roles, Kafka readers and publishers."""

from __future__ import annotations

import contextlib
import dataclasses
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import grpc.aio
import httpx
from fastapi import FastAPI
from google.protobuf.message import Message

from admin_service.app import SPEC
from admin_service.components import AdminComponents
from admin_service.settings import AdminSettings
from cp_common.kafka import EventProducer
from cp_common.service import build_app
from cryptopredict.admin.v1 import watchlist_pb2_grpc
from cryptopredict.common.v1 import watchlists_pb2 as common_pb2
from cryptopredict.events.v1 import watchlists_pb2 as events_pb2

PASSWORD = "Correct-Horse-9"
ADMIN_WATCHLIST = 1


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Caller:
    user_id: str
    email: str
    role: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.token)


@dataclass
class Auth:
    """The real auth service in-process: registers users and gives them roles."""

    app: FastAPI

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url="http://auth.test")

    async def user(self, role: str = "casual") -> Caller:
        email = f"{role}-{uuid.uuid4().hex[:10]}@example.com"
        async with self.client() as client:
            registered = await client.post(
                "/api/v1/auth/register", json={"email": email, "password": PASSWORD}
            )
            assert registered.status_code == 201, registered.text
            user_id = registered.json()["data"]["id"]
            if role != "casual":
                pool = self.app.state.runtime.pool
                async with pool.acquire() as conn:
                    await conn.execute("UPDATE users SET role = $2 WHERE id = $1", uuid.UUID(user_id), role)
            login = await client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
            assert login.status_code == 200, login.text
        return Caller(user_id, email, role, login.json()["data"]["access_token"])


@dataclass
class RunningAdmin:
    app: FastAPI
    settings: AdminSettings
    grpc_target: str

    @property
    def components(self) -> AdminComponents:
        return self.app.state.runtime.extras["admin"]

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url="http://admin.test")

    @contextlib.asynccontextmanager
    async def watchlist_stub(self) -> AsyncIterator[watchlist_pb2_grpc.WatchlistServiceStub]:
        async with grpc.aio.insecure_channel(self.grpc_target) as channel:
            yield watchlist_pb2_grpc.WatchlistServiceStub(channel)


@contextlib.asynccontextmanager
async def running_admin(settings: AdminSettings, verifier_source: FastAPI) -> AsyncIterator[RunningAdmin]:
    """The admin app with its own consumer group, verifying tokens with auth's verifier."""
    spec = dataclasses.replace(SPEC, consumer_group=f"admin-test-{uuid.uuid4().hex[:8]}")
    app = build_app(spec, settings)
    async with app.router.lifespan_context(app):
        app.state.jwt_verifier = verifier_source.state.runtime.verifier
        yield RunningAdmin(app, settings, f"127.0.0.1:{settings.grpc_port}")


def suggestion(
    symbol: str,
    kind: common_pb2.SuggestionType = common_pb2.SUGGESTION_TYPE_PROMOTE_TO_TIER1,
    confidence: float = 0.82,
    suggestion_id: str | None = None,
) -> events_pb2.WatchlistSuggestionCreated:
    message = events_pb2.WatchlistSuggestionCreated(
        suggestion_id=suggestion_id or str(uuid.uuid4()),
        symbol=symbol,
        suggestion_type=kind,
        confidence=confidence,
        ai_reasoning="promotion score above threshold",
        model_version="suggestion_engine_v2",
        cascade_run_id="run-1",
    )
    message.supporting_data["momentum_30d"] = 0.4
    message.suggested_at.GetCurrentTime()
    return message


class Publisher:
    """Publishes events the way other services do (real producer, standard headers)."""

    def __init__(self, bootstrap: str) -> None:
        self.producer = EventProducer(bootstrap, client_id="admin-tests")

    async def publish(self, topic: str, message: Message, *, event_id: str | None = None) -> str:
        event_id = event_id or str(uuid.uuid4())
        await self.producer.publish(topic, message, event_id=event_id)
        return event_id
