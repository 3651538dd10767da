"""Webhooks and preferences over the REST API, deliveries to a real local HTTP receiver.

Signed deliveries (verified here with the endpoint's secret), the secret shown once, retries
with backoff into the dead letter, an endpoint disabled and its owner told, and the address
policy both ways: private targets refused unless configuration allows them.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest

from cp_common import topics
from cp_common.kafka import EventProducer
from cp_testing.waiting import eventually
from notification_service.webhooks import signing

from .notification_testing import (
    RunningNotification,
    TokenIssuer,
    WebhookReceiver,
    new_signal,
    producer,
    receive_json,
    receive_until,
    running_notification,
    ws_connect,
)

HOOKS = "/api/v1/notifications/webhooks"


@pytest.fixture(scope="module")
async def events(kafka_bootstrap_servers: str) -> AsyncIterator[EventProducer]:
    async with producer(kafka_bootstrap_servers) as running:
        yield running


@pytest.fixture(scope="module")
async def strict_service(notification_settings) -> AsyncIterator[RunningNotification]:
    """The service as in production: private webhook targets refused."""
    async with running_notification(
        notification_settings(notification_webhook_allow_private=False)
    ) as running:
        yield running


def _client(service: RunningNotification, token: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=service.url, headers={"Authorization": f"Bearer {token}"}, timeout=30)


def _symbol() -> str:
    return "W" + uuid.uuid4().hex[:6].upper()


async def _only(http: httpx.AsyncClient, symbol: str) -> None:
    """Webhooks for ``symbol`` only (other tests' signals are not this user's business)."""
    response = await http.put("/api/v1/notifications/preferences", json={"symbols": [symbol]})
    assert response.status_code == 200, response.text


async def test_a_signal_is_delivered_signed_and_recorded(
    service: RunningNotification, issuer: TokenIssuer, events: EventProducer
) -> None:
    symbol = _symbol()
    with WebhookReceiver() as receiver:
        async with _client(service, issuer.token()) as http:
            await _only(http, symbol)
            created = await http.post(HOOKS, json={"url": receiver.url, "description": "desk"})
            assert created.status_code == 201, created.text
            endpoint = created.json()["data"]
            secret = endpoint["secret"]
            assert secret.startswith("whsec_") and endpoint["enabled"] is True
            listed = (await http.get(HOOKS)).json()["data"]
            assert [e["id"] for e in listed] == [endpoint["id"]]
            assert "secret" not in listed[0] and secret not in json.dumps(listed)

            change = new_signal(symbol, confidence=0.77)
            await events.publish(topics.SIGNALS.name, change)
            await eventually(lambda: bool(receiver.received), within=30, what="a webhook POST")
            hit = receiver.received[0]
            assert hit.path == "/hook" and len(receiver.received) == 1
            header = hit.headers[signing.SIGNATURE_HEADER]
            assert signing.verify(secret, header, hit.body)
            assert not signing.verify(secret, header, hit.body + b" ")
            assert not signing.verify("whsec_wrong", header, hit.body)
            body = json.loads(hit.body)
            assert body["type"] == "new_signal" and body["data"]["signal_id"] == change.signal.signal_id
            assert hit.headers[signing.EVENT_ID_HEADER] == body["event_id"]

            rows: list = []

            async def delivered() -> bool:
                rows[:] = (await http.get("/api/v1/notifications/deliveries?status=delivered")).json()["data"]
                return bool(rows)

            await eventually(delivered, within=20, what="a delivered delivery")
            assert rows[0]["attempts"] == 1 and rows[0]["last_status"] == 200
            assert rows[0]["event_id"] == body["event_id"]


async def test_failing_deliveries_retry_then_dead_letter_and_the_endpoint_is_disabled(
    notification_settings, issuer: TokenIssuer, events: EventProducer
) -> None:
    settings = notification_settings(
        notification_webhook_max_attempts=3, notification_webhook_disable_after=2
    )
    user = f"user-{uuid.uuid4().hex[:8]}"
    token = issuer.token(user_id=user)
    symbol = _symbol()
    async with running_notification(settings) as service, _client(service, token) as http:
        with WebhookReceiver(status=500) as receiver:
            await _only(http, symbol)
            created = (await http.post(HOOKS, json={"url": receiver.url})).json()["data"]
            async with ws_connect(f"{service.ws_url}/api/v1/ws/signals", token) as ws:
                await receive_json(ws)
                for _ in range(2):
                    await events.publish(topics.SIGNALS.name, new_signal(symbol))
                told, _ = await receive_until(ws, lambda m: m.get("type") == "notification", timeout=60)
                assert told["data"]["kind"] == "webhook_disabled"
                assert told["data"]["endpoint_id"] == created["id"]
                assert len(receiver.received) == 6  # 2 deliveries x 3 attempts, then nothing more
                dead = (await http.get("/api/v1/notifications/deliveries?status=dead")).json()["data"]
                assert len(dead) == 2 and {d["attempts"] for d in dead} == {3}
                assert {d["last_status"] for d in dead} == {500}
                endpoint = (await http.get(HOOKS)).json()["data"][0]
                assert endpoint["enabled"] is False and "in a row" in endpoint["disabled_reason"]
                inbox = (await http.get("/api/v1/notifications/inbox")).json()["data"]
                assert inbox[0]["kind"] == "webhook_disabled"

                ignored = new_signal(symbol)  # the endpoint is disabled: nothing is queued for it
                await events.publish(topics.SIGNALS.name, ignored)
                await receive_until(
                    ws, lambda m: m.get("data", {}).get("signal_id") == ignored.signal.signal_id
                )
            receiver.status = 200
            enabled = await http.post(f"{HOOKS}/{created['id']}/enable")
            assert enabled.json()["data"]["enabled"] is True
            await events.publish(topics.SIGNALS.name, new_signal(symbol))
            await eventually(
                lambda: len(receiver.received) > 6, within=30, what="a delivery after re-enabling"
            )
            assert len(receiver.received) == 7


async def test_private_targets_are_refused_unless_allowed(
    strict_service: RunningNotification, service: RunningNotification, issuer: TokenIssuer
) -> None:
    refused = [
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://10.0.0.5/hook",
        "http://192.168.1.10/hook",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://100.64.0.1/hook",
        "ftp://example.com/hook",
        "http://user:pass@93.184.216.34/hook",
        "not a url",
    ]
    async with _client(strict_service, issuer.token()) as http:
        for url in refused:
            answer = await http.post(HOOKS, json={"url": url})
            assert answer.status_code == 422, (url, answer.text)
            assert answer.json()["success"] is False
        public = await http.post(HOOKS, json={"url": "https://93.184.216.34/hook"})
        assert public.status_code == 201, public.text
    async with _client(service, issuer.token()) as http:
        allowed = await http.post(HOOKS, json={"url": "http://127.0.0.1:9/hook"})
        assert allowed.status_code == 201


async def test_a_delivery_to_an_address_that_became_private_is_refused(
    strict_service: RunningNotification, issuer: TokenIssuer, events: EventProducer
) -> None:
    """An endpoint whose address is private at delivery time (registered elsewhere, or DNS
    changed) is never contacted: the delivery is dead-lettered as refused."""
    user = f"user-{uuid.uuid4().hex[:8]}"
    symbol = _symbol()
    with WebhookReceiver() as receiver:
        async with _client(strict_service, issuer.token(user_id=user)) as http:
            await _only(http, symbol)
            async with strict_service.components.pool.acquire() as conn:
                await conn.execute(
                    "INSERT INTO webhook_endpoints (id, user_id, url, secret) VALUES ($1, $2, $3, 'whsec_x')",
                    uuid.uuid4(),
                    user,
                    receiver.url,
                )
            await events.publish(topics.SIGNALS.name, new_signal(symbol))

            rows: list = []

            async def dead() -> bool:
                rows[:] = (await http.get("/api/v1/notifications/deliveries?status=dead")).json()["data"]
                return bool(rows)

            await eventually(dead, within=30, what="a dead-lettered delivery")
        assert rows[0]["last_error"].startswith("refused:") and rows[0]["attempts"] == 1
        assert receiver.received == []


async def test_preferences_are_validated_and_need_a_token(
    service: RunningNotification, issuer: TokenIssuer
) -> None:
    async with httpx.AsyncClient(base_url=service.url) as anonymous:
        assert (await anonymous.get("/api/v1/notifications/preferences")).status_code == 401
    async with _client(service, issuer.token()) as http:
        defaults = (await http.get("/api/v1/notifications/preferences")).json()["data"]
        assert defaults == {
            "symbols": [],
            "min_confidence": 0.0,
            "channels": ["webhook", "webpush", "websocket"],
        }
        for bad in (
            {"min_confidence": 1.5},
            {"channels": ["carrier-pigeon"]},
            {"symbols": ["not a symbol"]},
            {"colour": "red"},
        ):
            answer = await http.put("/api/v1/notifications/preferences", json=bad)
            assert answer.status_code == 422, bad
            assert answer.json()["success"] is False
        assert (await http.delete(f"{HOOKS}/not-a-uuid")).status_code == 404
        assert (await http.delete(f"{HOOKS}/{uuid.uuid4()}")).status_code == 404
