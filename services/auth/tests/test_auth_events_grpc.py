"""users.v1 events reach Kafka through the outbox; the gRPC AuthService answers internal callers."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator

import grpc
import pytest
from aiokafka import AIOKafkaConsumer

from cp_common import topics
from cp_common.kafka import headers as kafka_headers
from cryptopredict.auth.v1 import auth_pb2, auth_pb2_grpc
from cryptopredict.common.v1 import users_pb2
from cryptopredict.events.v1 import users_pb2 as user_events_pb2

from .auth_testing import RunningAuth, bearer, running_auth


@pytest.fixture(scope="module")
async def served(auth_settings, free_port) -> AsyncIterator[RunningAuth]:
    async with running_auth(auth_settings(grpc_port=free_port())) as running:
        yield running


async def _events_for(bootstrap: str, user_id: str, count: int, timeout: float = 30) -> list[tuple]:
    consumer = AIOKafkaConsumer(
        topics.USERS.name,
        bootstrap_servers=bootstrap,
        group_id=f"auth-test-{uuid.uuid4().hex[:8]}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    found = []
    deadline = time.monotonic() + timeout
    try:
        while len(found) < count and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                for record in records:
                    if record.key == user_id.encode():
                        message = topics.decode(topics.USERS.name, record.value)
                        found.append((message, kafka_headers.decode(record.headers)))
    finally:
        await consumer.stop()
    return found


async def test_account_changes_are_published_in_order(served: RunningAuth) -> None:
    _, admin = await served.user_with_role("admin")
    user = await served.register()
    headers = bearer(admin["access_token"])
    async with served.client() as client:
        await client.put(
            f"/api/v1/auth/users/{user['id']}/role", headers=headers, json={"role": "professional"}
        )
        await client.post(f"/api/v1/auth/users/{user['id']}/deactivate", headers=headers)
        await client.post(f"/api/v1/auth/users/{user['id']}/reactivate", headers=headers)
    events = await _events_for(served.settings.kafka_bootstrap_servers or "", user["id"], 4)
    kinds = [message.kind for message, _ in events]
    assert kinds == [
        user_events_pb2.USER_CHANGE_KIND_REGISTERED,
        user_events_pb2.USER_CHANGE_KIND_ROLE_CHANGED,
        user_events_pb2.USER_CHANGE_KIND_DEACTIVATED,
        user_events_pb2.USER_CHANGE_KIND_REACTIVATED,
    ]
    registered, role_changed, deactivated, _ = (message for message, _ in events)
    assert registered.email == user["email"] and registered.role == users_pb2.ROLE_CASUAL
    assert role_changed.role == users_pb2.ROLE_PROFESSIONAL and role_changed.is_active
    # the admin who acted and the state before, for the admin service's audit log
    assert not registered.actor_user_id
    assert (
        role_changed.actor_user_id == admin["user"]["id"] and role_changed.actor_role == users_pb2.ROLE_ADMIN
    )
    assert role_changed.previous_role == users_pb2.ROLE_CASUAL and role_changed.previous_is_active
    assert deactivated.actor_user_id == admin["user"]["id"] and deactivated.previous_is_active
    assert not deactivated.is_active
    assert {h["event-type"] for _, h in events} == {"cryptopredict.events.v1.UserChanged"}
    assert len({h["event-id"] for _, h in events}) == 4


async def test_a_failed_change_writes_no_event(served: RunningAuth) -> None:
    user = await served.register()
    async with served.client() as client:
        duplicate = await client.post(
            "/api/v1/auth/register", json={"email": user["email"].upper(), "password": "Correct-Horse-9"}
        )
    assert duplicate.status_code == 409
    async with served.components.pool.acquire() as conn:
        rows = await conn.fetchval("SELECT count(*) FROM outbox WHERE record_key = $1", user["id"].encode())
    assert rows == 1


@pytest.fixture
async def stub(served: RunningAuth) -> AsyncIterator[auth_pb2_grpc.AuthServiceStub]:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{served.settings.grpc_port}") as channel:
        yield auth_pb2_grpc.AuthServiceStub(channel)


async def test_grpc_get_user(served: RunningAuth, stub) -> None:
    user = await served.register()
    await served.login(user["email"])
    reply = await stub.GetUser(auth_pb2.GetUserRequest(user_id=user["id"]), timeout=5)
    assert reply.user.user_id == user["id"] and reply.user.email == user["email"]
    assert reply.user.role == users_pb2.ROLE_CASUAL and reply.user.is_active
    assert reply.user.HasField("last_login_at")
    with pytest.raises(grpc.aio.AioRpcError) as missing:
        await stub.GetUser(auth_pb2.GetUserRequest(user_id=str(uuid.uuid4())), timeout=5)
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.aio.AioRpcError) as empty:
        await stub.GetUser(auth_pb2.GetUserRequest(), timeout=5)
    assert empty.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_grpc_introspect_token(served: RunningAuth, stub) -> None:
    user = await served.register()
    tokens = await served.login(user["email"])
    live = await stub.IntrospectToken(
        auth_pb2.IntrospectTokenRequest(token=tokens["access_token"]), timeout=5
    )
    assert live.active and live.user_id == user["id"] and live.role == users_pb2.ROLE_CASUAL
    assert live.expires_at.seconds - live.issued_at.seconds == 900

    junk = await stub.IntrospectToken(auth_pb2.IntrospectTokenRequest(token="junk"), timeout=5)
    assert not junk.active and junk.inactive_reason == auth_pb2.INACTIVE_REASON_INVALID

    async with served.components.pool.acquire() as conn:
        await conn.execute("UPDATE users SET is_active = false WHERE id = $1", uuid.UUID(user["id"]))
    inactive = await stub.IntrospectToken(
        auth_pb2.IntrospectTokenRequest(token=tokens["access_token"]), timeout=5
    )
    assert not inactive.active and inactive.inactive_reason == auth_pb2.INACTIVE_REASON_ACCOUNT_INACTIVE

    other = await served.register()
    other_tokens = await served.login(other["email"])
    async with served.client() as client:
        await client.post("/api/v1/auth/logout", headers=bearer(other_tokens["access_token"]))
    revoked = await stub.IntrospectToken(
        auth_pb2.IntrospectTokenRequest(token=other_tokens["access_token"]), timeout=5
    )
    assert not revoked.active and revoked.inactive_reason == auth_pb2.INACTIVE_REASON_REVOKED
